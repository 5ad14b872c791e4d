#!/usr/bin/env bash
# Throughput and latency of phigate next to nginx, measured with wrk on loopback.
#
# Starts a private nginx (one worker, `return 200`) and a release phigate, then runs wrk
# against each target in turn, round after round, so that drift of the machine hits every
# target alike. Prints a table and writes it, with each raw wrk report, to bench-out/.
# Then measures what extra_figures.sh describes — audit group commit against one commit per
# entry, `phigate audit verify` against OpenSSL's SHA-256, and the break-glass alert
# latency — and prints and appends those figures, each with its method.
#
# Usage: Tests/bench/run.sh   (`make bench` builds phigate, installs wrk and nginx and the
# Python environment)
# Settings (environment): PHIGATE_BIN, BENCH_THREADS (1), BENCH_CONNECTIONS (64),
# BENCH_DURATION (8s), BENCH_WARMUP (2s), BENCH_ROUNDS (3), BENCH_OUT (bench-out),
# BENCH_PYTHON (.venv/bin/python), BENCH_BREAK_GLASS_ACTIVATIONS (100).
#
# To measure another request, start what it needs in main() and add one line:
#   bench_target NAME URL [HEADER...]      e.g. "Authorization: Bearer $token"
# The first target is the baseline that every ratio is computed against.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

PHIGATE_BIN=${PHIGATE_BIN:-$root/.build/release/phigate}
# A name of the bench, not a setting: phigate warns about PHIGATE_* variables it does not know.
export -n PHIGATE_BIN
THREADS=${BENCH_THREADS:-1}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
DURATION=${BENCH_DURATION:-8s}
WARMUP=${BENCH_WARMUP:-2s}
ROUNDS=${BENCH_ROUNDS:-3}
OUT=${BENCH_OUT:-$root/bench-out}
PYTHON_BIN=${BENCH_PYTHON:-$root/.venv/bin/python}
ACTIVATIONS=${BENCH_BREAK_GLASS_ACTIVATIONS:-100}

work=$(mktemp -d "${TMPDIR:-/tmp}/phigate-bench.XXXXXX")
started_pids=()

cleanup() {
    local pid
    for pid in "${started_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
    echo "bench: $*" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until URL answers 200, for up to $2 seconds.
wait_for_200() {
    local url=$1 seconds=$2 i
    for i in $(seq $((seconds * 10))); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

start_nginx() {
    local prefix=$work/nginx port
    port=$(free_port)
    mkdir -p "$prefix/www"
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" "$here/nginx.conf" >"$prefix/nginx.conf"
    command -v nginx >/dev/null || die "nginx not found (make bench installs nginx-light)"
    nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" &
    started_pids+=($!)
    wait_for_200 "http://127.0.0.1:$port/" 10 || die "nginx did not start: $(cat "$prefix/error.log")"
    NGINX_URL="http://127.0.0.1:$port"
    NGINX_WWW="$prefix/www"
}

# Starts a release phigate with demo data in $work/NAME, with the extra environment given as
# VAR=VALUE arguments, and sets PHIGATE_URL, PHIGATE_PID and PHIGATE_DIR for it.
start_phigate() {
    local name=$1 dir=$work/$1 address i
    shift
    [ -x "$PHIGATE_BIN" ] || die "no phigate at $PHIGATE_BIN (make bench builds it)"
    mkdir -p -m 700 "$dir/data"
    env PHIGATE_LISTEN=127.0.0.1:0 PHIGATE_DATA_DIR="$dir/data" PHIGATE_DEMO=true "$@" \
        "$PHIGATE_BIN" serve >"$dir/phigate.out" 2>"$dir/phigate.log" </dev/null &
    PHIGATE_PID=$!
    started_pids+=("$PHIGATE_PID")
    address=
    for i in $(seq 600); do
        address=$(python3 - "$dir/phigate.log" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        record = json.loads(line)
    except ValueError:
        continue
    if isinstance(record, dict) and record.get("msg") == "server.listening":
        print(record.get("http.address", ""))
        break
PY
)
        [ -n "$address" ] && break
        kill -0 "$PHIGATE_PID" 2>/dev/null || die "phigate $name exited: $(tail -n 20 "$dir/phigate.log")"
        sleep 0.1
    done
    [ -n "$address" ] || die "phigate $name did not log server.listening: $(tail -n 20 "$dir/phigate.log")"
    PHIGATE_URL="http://$address"
    PHIGATE_DIR=$dir
}

# Stops phigate $1 (a pid) with SIGTERM, as an operator would, so that it signs its last
# checkpoint; fails unless it exits 0 within its shutdown grace and some.
stop_phigate() {
    local pid=$1 status=0 i
    kill -TERM "$pid" 2>/dev/null || die "phigate (pid $pid) is not running"
    for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "phigate (pid $pid) still runs 30 s after SIGTERM"
    wait "$pid" || status=$?
    [ "$status" = 0 ] || die "phigate (pid $pid) exited with status $status after SIGTERM"
}

# The targets, in the order they are measured; headers are kept one per line.
target_names=()
target_urls=()
target_headers=()

bench_target() {
    local name=$1 url=$2
    shift 2
    target_names+=("$name")
    target_urls+=("$url")
    target_headers+=("$(printf '%s\n' "$@")")
}

# Runs wrk against target $1 for $2; the report goes to stdout.
run_wrk() {
    local index=$1 duration=$2 header args=()
    while IFS= read -r header; do
        [ -n "$header" ] && args+=(-H "$header")
    done <<<"${target_headers[$index]}"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "${args[@]}" \
        "${target_urls[$index]}" || true
}

# Reads a wrk report on stdin and prints: requests/s, p99 in ms, failed requests.
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /m$/) return v * 60000
            if (v ~ /s$/) return v * 1000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" && seen { p99 = ms($2) }
        /Latency Distribution/ { seen = 1 }
        /Non-2xx or 3xx responses:/ { bad += $NF }
        /Socket errors:/ {
            gsub(/,/, "")
            bad += $4 + $6 + $8 + $10
        }
        END {
            if (rps == "") { print "0 0 -1"; exit }
            printf "%.0f %.3f %d\n", rps, p99, bad
        }'
}

measure() {
    local round index report
    mkdir -p "$OUT"
    : >"$work/results"
    for index in "${!target_names[@]}"; do
        echo "warm-up ${target_names[$index]} ($WARMUP)" >&2
        run_wrk "$index" "$WARMUP" >/dev/null
    done
    for round in $(seq "$ROUNDS"); do
        for index in "${!target_names[@]}"; do
            report="$OUT/wrk-${target_names[$index]}-round$round.txt"
            echo "round $round/$ROUNDS ${target_names[$index]} ($DURATION)" >&2
            run_wrk "$index" "$DURATION" >"$report"
            echo "$index $round $(parse_wrk <"$report")" >>"$work/results"
        done
    done
}

# Prints the table: per target, req/s of each round, their mean, the p99 range and the
# ratio of the mean to the baseline's. Failed requests are flagged, since a fast error is
# not a fast answer.
report() {
    local index
    {
        echo "phigate benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
            "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds" \
            "alternated after a $WARMUP warm-up; $(nproc) cores; $(wrk -v 2>&1 | head -n 1 | cut -d" " -f1-2)"
        for index in "${!target_names[@]}"; do
            echo "  ${target_names[$index]}: ${target_urls[$index]}"
        done
        echo
        awk -v rounds="$ROUNDS" -v names="${target_names[*]}" '
            BEGIN { n = split(names, name, " ") }
            {
                t = $1 + 1; r = $2
                rps[t, r] = $3; p99[t, r] = $4; bad[t] += ($5 < 0 ? 1 : $5)
                if ($5 < 0) failed[t] = 1
            }
            END {
                printf "%-20s", "server"
                for (r = 1; r <= rounds; r++) printf " %10s", "round " r
                printf " %10s %17s %8s  %s\n", "mean", "p99 (ms)", "ratio", "errors"
                for (t = 1; t <= n; t++) {
                    sum = 0; lo = -1; hi = 0
                    printf "%-20s", name[t]
                    for (r = 1; r <= rounds; r++) {
                        printf " %10d", rps[t, r]
                        sum += rps[t, r]
                        if (lo < 0 || p99[t, r] < lo) lo = p99[t, r]
                        if (p99[t, r] > hi) hi = p99[t, r]
                    }
                    mean[t] = sum / rounds
                    ratio = mean[1] > 0 ? mean[t] / mean[1] : 0
                    printf " %10d %17s %7.2fx  %s\n", mean[t], sprintf("%.2f-%.2f", lo, hi),
                        ratio, failed[t] ? "wrk failed" : bad[t]
                }
            }' "$work/results"
    } | tee -a "$OUT/results.txt"
}

# Prints the ratio of target $1's mean req/s to target $2's, from the table just reported:
# what one target costs next to another that returns the same bytes.
report_pair() {
    local name=$1 reference=$2 index a= b=
    for index in "${!target_names[@]}"; do
        [ "${target_names[$index]}" = "$name" ] && a=$index
        [ "${target_names[$index]}" = "$reference" ] && b=$index
    done
    [ -n "$a" ] && [ -n "$b" ] || die "report_pair: unknown target $name or $reference"
    awk -v a="$a" -v b="$b" -v name="$name" -v reference="$reference" '
        $1 == a { sa += $3; na++ }
        $1 == b { sb += $3; nb++ }
        END {
            if (na == 0 || nb == 0 || sb == 0) exit 1
            printf "%s / %s (same response body): %.2fx\n", name, reference, (sa / na) / (sb / nb)
        }' "$work/results" | tee -a "$OUT/results.txt"
}

# Logs the demo clinician in and sets FHIR_TOKEN and FHIR_PATIENT (a patient they treat),
# from the credentials the demo prints once on stdout.
demo_login() {
    local password
    password=$(awk '$1 == "dr.demo" && $2 == "clinician" { print $3 }' "$PHIGATE_DIR/phigate.out")
    FHIR_PATIENT=$(sed -n 's/^dr\.demo treats patient \([^;]*\);.*/\1/p' "$PHIGATE_DIR/phigate.out")
    [ -n "$password" ] && [ -n "$FHIR_PATIENT" ] || die "demo credentials not found in phigate's output"
    FHIR_TOKEN=$(curl -s "${CURL_OPTIONS[@]}" -X POST "$PHIGATE_URL/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"dr.demo\",\"password\":\"$password\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    [ "$(curl -s "${CURL_OPTIONS[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $FHIR_TOKEN" \
        "$PHIGATE_URL/fhir/Patient/$FHIR_PATIENT")" = 200 ] || die "authorized FHIR read failed"
}

CURL_OPTIONS=()

# shellcheck source=extra_figures.sh
source "$here/extra_figures.sh"
# shellcheck source=https.sh
source "$here/https.sh"

main() {
    command -v wrk >/dev/null || die "wrk not found (make bench installs it)"
    mkdir -p "$OUT"
    : >"$OUT/results.txt"
    check_extra_tools
    start_nginx
    start_phigate main
    local main_pid=$PHIGATE_PID main_dir=$PHIGATE_DIR
    demo_login
    curl -s -o "$NGINX_WWW/same-body.json" -H "Authorization: Bearer $FHIR_TOKEN" \
        "$PHIGATE_URL/fhir/Patient/$FHIR_PATIENT" || die "could not fetch the FHIR read's body"
    # nginx's worker drops root for an unprivileged user, which must reach the file.
    chmod o+x "$work" "$work/nginx" "$NGINX_WWW"
    chmod o+r "$NGINX_WWW/same-body.json"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$NGINX_URL/same-body.json")" = 200 ] ||
        die "nginx cannot serve the copied body: $(tail -n 1 "$work/nginx/error.log")"
    bench_target nginx "$NGINX_URL/healthz"
    bench_target nginx-same-body "$NGINX_URL/same-body.json"
    bench_target phigate-healthz "$PHIGATE_URL/healthz"
    bench_target phigate-fhir-read "$PHIGATE_URL/fhir/Patient/$FHIR_PATIENT" "Authorization: Bearer $FHIR_TOKEN"
    measure
    report
    report_pair phigate-fhir-read nginx-same-body
    stop_phigate "$main_pid"
    measure_https
    CURL_OPTIONS=()

    measure_audit_group 1024
    measure_audit_group 1
    measure_verify "$main_dir"
    measure_openssl_sha256
    measure_break_glass
    report_extra_figures
}

main "$@"
