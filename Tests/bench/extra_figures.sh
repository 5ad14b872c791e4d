# Figures beyond the wrk table, sourced by run.sh (which provides start_phigate, stop_phigate,
# demo_login, free_port, parse_wrk, die and the settings). Each measure_* function leaves its
# raw material in $OUT and its figures in $work/figures.*; report_extra_figures prints them with
# the method used and appends them to $OUT/results.txt.
#
# 1. Audit appends per second with group commit (audit.max_group_size 1024, the default)
#    against one commit per entry (1): wrk on the authorized FHIR read, which appends one audit
#    entry and answers only once it is durable, plus the audit counters from /metrics.
# 2. `phigate audit verify` entries per second on the table's log, next to the SHA-256 rate of
#    `openssl speed -seconds 3 sha256` for 256-byte blocks.
# 3. Break-glass: POST /break-glass to the signed alert's arrival at a local receiver.

check_extra_tools() {
    command -v openssl >/dev/null || die "openssl not found (make bench installs it)"
    command -v sqlite3 >/dev/null || die "sqlite3 not found (make bench installs it)"
    [ -x "$PYTHON_BIN" ] || die "no Python environment at $PYTHON_BIN (run make deps)"
    "$PYTHON_BIN" -c 'import pyotp, requests, standardwebhooks' 2>/dev/null ||
        die "$PYTHON_BIN lacks pyotp, requests or standardwebhooks (run make deps)"
}

# Prints the value of the metric named $2 in the /metrics of the phigate at $1.
metric() {
    local value
    value=$(curl -sf "$1/metrics" | awk -v name="$2" '$1 == name { print $2 }')
    [ -n "$value" ] || die "no $2 in $1/metrics"
    echo "$value"
}

# Waits until the audit writer of the phigate at $1 has no entry queued (the warm-up's last
# requests may still be committing), for up to 10 s.
wait_for_idle_audit() {
    local i
    for i in $(seq 100); do
        [ "$(metric "$1" phigate_audit_queue_depth)" = 0 ] && return 0
        sleep 0.1
    done
    die "the audit queue of $1 did not drain within 10 s"
}

# Measures the authorized FHIR read on a fresh phigate whose audit writer commits at most $1
# entries together: a warm-up, then, once its entries are committed, one run of $DURATION
# with the audit counters read from /metrics just before and right after it (entries still
# queued when wrk stops are not counted). Appends to $work/figures.audit:
#   size req/s p99-ms errors entries commits seconds
measure_audit_group() {
    local size=$1 pid url report entries0 commits0 entries1 commits1 t0 t1
    start_phigate "audit-group-$size" PHIGATE_AUDIT_MAX_GROUP_SIZE="$size"
    pid=$PHIGATE_PID
    demo_login
    url="$PHIGATE_URL/fhir/Patient/$FHIR_PATIENT"
    report="$OUT/wrk-audit-group-$size.txt"
    AUDIT_FILESYSTEM=$(df -T "$PHIGATE_DIR/data" | awk 'NR == 2 { print $2 " on " $1 }')
    echo "audit max_group_size=$size: warm-up ($WARMUP), then $DURATION" >&2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $FHIR_TOKEN" "$url" \
        >/dev/null || die "wrk failed on the warm-up of max_group_size=$size"
    sleep 0.2
    wait_for_idle_audit "$PHIGATE_URL"
    entries0=$(metric "$PHIGATE_URL" phigate_audit_entries_total)
    commits0=$(metric "$PHIGATE_URL" phigate_audit_commits_total)
    t0=$(date +%s.%N)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $FHIR_TOKEN" \
        "$url" >"$report" || die "wrk failed for max_group_size=$size: $(cat "$report")"
    t1=$(date +%s.%N)
    entries1=$(metric "$PHIGATE_URL" phigate_audit_entries_total)
    commits1=$(metric "$PHIGATE_URL" phigate_audit_commits_total)
    stop_phigate "$pid"
    echo "$size $(parse_wrk <"$report") $((entries1 - entries0)) $((commits1 - commits0))" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >>"$work/figures.audit"
}

# Runs `phigate audit verify` three times on the log in $1/data (a stopped phigate's data
# directory) and keeps the median of its own entries/s figure. Sets VERIFY_* variables.
measure_verify() {
    local dir=$1 run output status rates=() database=$1/data/audit.sqlite
    [ -f "$database" ] || die "no audit log at $database"
    : >"$OUT/audit-verify.txt"
    for run in 1 2 3; do
        echo "phigate audit verify, run $run/3" >&2
        status=0
        output=$(PHIGATE_DATA_DIR="$dir/data" "$PHIGATE_BIN" audit verify 2>&1) || status=$?
        echo "$output" >>"$OUT/audit-verify.txt"
        [ "$status" = 0 ] || die "phigate audit verify exited $status: $output"
        rates+=("$(sed -n 's/.*\[[0-9.]* s, \([0-9]*\) entries\/s\]$/\1/p' <<<"$output")")
        [ -n "${rates[-1]}" ] || die "no entries/s in the output of phigate audit verify: $output"
    done
    VERIFY_SUMMARY=$output
    VERIFY_RATES="${rates[*]}"
    VERIFY_RATE=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
    VERIFY_ENTRIES=$(sed -n 's/^audit log OK: \([0-9]*\) entries.*/\1/p' <<<"$output")
    VERIFY_MEAN_BYTES=$(sqlite3 -readonly "$database" \
        'SELECT CAST(round(avg(length(entry))) AS INTEGER) FROM audit_log')
    [ -n "$VERIFY_ENTRIES" ] && [ -n "$VERIFY_MEAN_BYTES" ] || die "unexpected verify output: $output"
}

# `openssl speed -seconds 3 sha256`; sets SHA256_RATE to its 256-byte column in hashes/s
# (the column is in thousands of bytes per second).
measure_openssl_sha256() {
    echo "openssl speed -seconds 3 sha256" >&2
    openssl speed -seconds 3 sha256 >"$OUT/openssl-speed.txt" 2>"$OUT/openssl-speed.err" ||
        die "openssl speed failed: $(tail -n 5 "$OUT/openssl-speed.err")"
    SHA256_RATE=$(awk '
        $1 == "type" { for (i = 2; i < NF; i++) if ($i == "256" && $(i + 1) == "bytes") column = i / 2 + 1 }
        $1 == "sha256" && column { v = $column; sub(/k$/, "", v); printf "%.0f\n", v * 1000 / 256 }
    ' "$OUT/openssl-speed.txt")
    [ -n "$SHA256_RATE" ] || die "no 256-byte sha256 figure in $OUT/openssl-speed.txt"
    OPENSSL_VERSION=$(openssl version | cut -d' ' -f1-2)
}

# Starts phigate with a webhook subscription for break_glass.activated, creates $ACTIVATIONS
# clinicians with the command line on its data directory, and runs break_glass_latency.py.
measure_break_glass() {
    local port secret pid users=$work/break-glass-users i password totp_secret status=0
    port=$(free_port)
    secret="whsec_$(openssl rand -base64 32)"
    start_phigate break-glass PHIGATE_WEBHOOKS="[{\"url\":\"http://127.0.0.1:$port/hook\",\
\"secret\":\"$secret\",\"events\":[\"break_glass.activated\"]}]"
    pid=$PHIGATE_PID
    echo "break-glass: creating $ACTIVATIONS clinicians with phigate user add / user totp" >&2
    : >"$users"
    for i in $(seq "$ACTIVATIONS"); do
        password=$(openssl rand -hex 16)
        printf '%s\n' "$password" | PHIGATE_DATA_DIR="$PHIGATE_DIR/data" "$PHIGATE_BIN" user add \
            "bench$i" --role clinician --password-stdin >/dev/null || die "phigate user add bench$i failed"
        totp_secret=$(PHIGATE_DATA_DIR="$PHIGATE_DIR/data" "$PHIGATE_BIN" user totp "bench$i" |
            awk '$1 == "secret:" { print $2 }')
        [ -n "$totp_secret" ] || die "phigate user totp bench$i printed no secret"
        echo "bench$i $password $totp_secret" >>"$users"
    done
    echo "break-glass: $ACTIVATIONS activations, one at a time" >&2
    "$PYTHON_BIN" "$here/break_glass_latency.py" "$PHIGATE_URL" "$port" "$secret" "$users" \
        "$OUT/break-glass-latencies.csv" >"$work/figures.break-glass" || status=$?
    [ "$status" = 0 ] || die "break-glass measurement failed: $(cat "$work/figures.break-glass")"
    stop_phigate "$pid"
    BREAK_GLASS_VERSION=$("$PYTHON_BIN" -c \
        'import importlib.metadata as m; print(m.version("standardwebhooks"))')
}

# The value of key $1 in the key=value line break_glass_latency.py printed.
break_glass_figure() {
    tr ' ' '\n' <"$work/figures.break-glass" | sed -n "s/^$1=//p"
}

report_extra_figures() {
    {
        echo
        echo "Audit appends: group commit (max_group_size 1024, the default) vs one commit per entry (1)"
        echo "  method: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency on the authorized FHIR read"
        echo "  as dr.demo (each read appends one audit entry and is answered only once it is durable);"
        echo "  one run per setting, each on a freshly started phigate after a $WARMUP warm-up; audit log on"
        echo "  $AUDIT_FILESYSTEM. entries and commits = change of phigate_audit_entries_total and"
        echo "  phigate_audit_commits_total in /metrics from just before the run (warm-up committed) to"
        echo "  right after it, over the wall time between the two reads."
        awk '
            { size[NR] = $1; rps[NR] = $2; p99[NR] = $3; bad[NR] = $4; e[NR] = $5; c[NR] = $6; s[NR] = $7 }
            END {
                printf "  %-15s %9s %10s %7s %10s %10s %15s\n", "max_group_size", "req/s", "p99 (ms)",
                    "errors", "entries/s", "commits/s", "entries/commit"
                for (i = 1; i <= NR; i++) {
                    printf "  %-15s %9d %10.2f %7s %10.0f %10.0f %15.2f\n", size[i], rps[i], p99[i],
                        bad[i] < 0 ? "wrk!" : bad[i], e[i] / s[i], c[i] / s[i], c[i] ? e[i] / c[i] : 0
                }
                if (NR == 2 && rps[2] > 0 && e[2] > 0)
                    printf "  group commit / one commit per entry: %.2fx req/s, %.2fx entries/s\n",
                        rps[1] / rps[2], (e[1] / s[1]) / (e[2] / s[2])
            }' "$work/figures.audit"

        echo
        echo "Audit verification vs raw SHA-256 on this machine"
        echo "  method: SIGTERM to the phigate of the table above (it signs a last checkpoint), then"
        echo "  PHIGATE_DATA_DIR=<its data dir> phigate audit verify, 3 times; its own \"[X s, N entries/s]\""
        echo "  figure, median of the 3. Against: $OPENSSL_VERSION \`openssl speed -seconds 3 sha256\`,"
        echo "  the 256-byte column (thousands of bytes/s) / 256 = hashes/s. Both single-threaded."
        echo "  Each verified entry hashes 49 + its length bytes (mean entry $VERIFY_MEAN_BYTES bytes) and"
        echo "  is also parsed and checked for canonical form."
        echo "  last run: $VERIFY_SUMMARY"
        printf "  %-34s %12d entries/s   (runs: %s)\n" "phigate audit verify ($VERIFY_ENTRIES entries)" \
            "$VERIFY_RATE" "${VERIFY_RATES// /, }"
        printf "  %-34s %12d hashes/s\n" "openssl sha256, 256-byte blocks" "$SHA256_RATE"
        awk -v v="$VERIFY_RATE" -v h="$SHA256_RATE" 'BEGIN {
            printf "  verify / sha256: %.3fx (one verified entry costs about %.1f 256-byte hashes)\n",
                v / h, h / v }'

        echo
        echo "Break-glass: POST /break-glass to the signed alert at a local webhook receiver"
        echo "  method: $ACTIVATIONS clinicians made with \`phigate user add\` and \`phigate user totp\`;"
        echo "  for each in turn: login, TOTP confirm (code of the current step), then POST /break-glass"
        echo "  for demo-pat-0002 with the code of the next step. Latency = the receiver's"
        echo "  time.monotonic() when the alert's body has been read - time.monotonic() just before the"
        echo "  POST. One activation at a time, each alert awaited before the next; every delivery's"
        echo "  signature checked with standardwebhooks $BREAK_GLASS_VERSION; percentiles by nearest rank."
        echo "  alerts arrived: $(break_glass_figure arrived)/$(break_glass_figure activations)," \
            "deliveries received: $(break_glass_figure deliveries)," \
            "valid signatures: $(break_glass_figure verified), bad: $(break_glass_figure bad_signatures)"
        echo "  POST -> alert arrival: p50 $(break_glass_figure p50_ms) ms, p99 $(break_glass_figure p99_ms) ms," \
            "max $(break_glass_figure max_ms) ms (min $(break_glass_figure min_ms) ms)"
        echo "  POST -> 201 response:  p50 $(break_glass_figure response_p50_ms) ms," \
            "p99 $(break_glass_figure response_p99_ms) ms"
    } | tee -a "$OUT/results.txt"
}
