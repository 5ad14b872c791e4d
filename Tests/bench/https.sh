# HTTPS figures for Tests/bench/run.sh (sourced): phigate and nginx serving the same
# certificate, with keep-alive, then with a new connection (a full handshake) per request.

# A P-256 certificate for 127.0.0.1/localhost, signed by a throwaway CA; sets TLS_DIR.
make_certificate() {
    TLS_DIR=$work/tls
    mkdir -p -m 700 "$TLS_DIR"
    (
        cd "$TLS_DIR"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
            -days 30 -subj "/CN=phigate bench CA" 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
            -subj "/CN=localhost" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 30 \
            -extfile server.ext 2>/dev/null
        chmod 600 ./*.key
    ) || die "could not make the benchmark certificate"
}

start_nginx_tls() {
    local prefix=$work/nginx-tls port
    port=$(free_port)
    mkdir -p "$prefix"
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@CERT@|$TLS_DIR/server.pem|g" \
        -e "s|@KEY@|$TLS_DIR/server.key|g" "$here/nginx-tls.conf" >"$prefix/nginx.conf"
    nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" &
    started_pids+=($!)
    local i
    for i in $(seq 100); do
        [ "$(curl -s --cacert "$TLS_DIR/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/")" = 200 ] \
            && break
        sleep 0.1
    done
    NGINX_TLS_URL="https://127.0.0.1:$port"
}

# Keep-alive table (healthz and the authorized FHIR read) and the full-handshake rate.
measure_https() {
    make_certificate
    start_nginx_tls
    start_phigate https PHIGATE_TLS_CERT="$TLS_DIR/server.pem" PHIGATE_TLS_KEY="$TLS_DIR/server.key"
    local https_pid=$PHIGATE_PID
    PHIGATE_URL=${PHIGATE_URL/http:/https:}
    CURL_OPTIONS=(--cacert "$TLS_DIR/ca.pem")
    demo_login
    target_names=()
    target_urls=()
    target_headers=()
    bench_target nginx-https "$NGINX_TLS_URL/healthz"
    bench_target phigate-https-healthz "$PHIGATE_URL/healthz"
    bench_target phigate-https-fhir-read "$PHIGATE_URL/fhir/Patient/$FHIR_PATIENT" "Authorization: Bearer $FHIR_TOKEN"
    bench_target nginx-https-handshake "$NGINX_TLS_URL/healthz" "Connection: close"
    bench_target phigate-https-handshake "$PHIGATE_URL/healthz" "Connection: close"
    measure
    echo >&2
    echo "HTTPS (same P-256 certificate, TLS 1.3 as negotiated by wrk); the *-handshake rows send" \
        "Connection: close, so each request pays a full handshake (no session resumption on either side)" |
        tee -a "$OUT/results.txt"
    report
    stop_phigate "$https_pid"
}
