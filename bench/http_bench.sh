#!/usr/bin/env bash
# Status-poll throughput of apm-server against nginx serving a static file of the same size,
# durable submissions per second, and server RSS after 100k stored requests.
# Usage: bench/http_bench.sh [seconds-per-run=10] [rounds=3]
# Both servers and wrk share the machine's cores, as in docs/performance.md.
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$APM_ROOT"
duration=${1:-10}
rounds=${2:-3}

apm_install_packages "${APM_PACKAGES[@]}" wrk nginx-light
apm_build default apm-server apm_bench
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/apm-bench.XXXXXX)
apm_port=18181
nginx_port=18182
server="$APM_ROOT/build/default/src/server/apm-server"
cleanup() {
  [ -n "${apm_pid:-}" ] && kill "$apm_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/apm.toml" <<TOML
HashVerification = "off"        # one hash for every serial
TrustedProxies = ["127.0.0.1"]   # bench/submit.lua gives each submission its own address
TOML
"$server" --config "$work/apm.toml" --listen "127.0.0.1:$apm_port" --data-dir "$work/data" \
  > "$work/apm.log" 2>&1 &
apm_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$apm_port/healthz" >/dev/null && break; sleep 0.1; done

hash=$(python3 -c 'import json;print(json.load(open("docs/examples/sample-request.json"))["hardwareHash"])')
id=$(curl -sf -H 'Content-Type: application/json' --data @docs/examples/sample-request.json \
  "http://127.0.0.1:$apm_port/api/v1/requests" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
status_url="http://127.0.0.1:$apm_port/api/v1/requests/$id"
size=$(curl -sf "$status_url" | wc -c)

mkdir -p "$work/www" "$work/nginx-tmp"
head -c "$size" /dev/zero | tr '\0' 'x' > "$work/www/status.json"
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $work/nginx-access.log;
  sendfile off;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp; uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location / { root $work/www; default_type application/json; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

rps() { wrk -t1 -c"$1" -d"${duration}s" "$2" 2>&1 | awk '/Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "body size: $size bytes; ${rounds} interleaved rounds of ${duration}s; wrk -t1"
for conns in 50 1000; do
  : > "$work/apm.$conns"; : > "$work/nginx.$conns"
  for _ in $(seq "$rounds"); do
    rps "$conns" "$status_url" >> "$work/apm.$conns"
    rps "$conns" "http://127.0.0.1:$nginx_port/status.json" >> "$work/nginx.$conns"
  done
  a=$(median < "$work/apm.$conns"); n=$(median < "$work/nginx.$conns")
  printf 'status polls, %4d connections: apm-server %9.0f req/s, nginx %9.0f req/s, ratio %.2f  (runs: apm %s; nginx %s)\n' \
    "$conns" "$a" "$n" "$(echo "$a / $n" | bc -l)" "$(tr '\n' ' ' < "$work/apm.$conns")" \
    "$(tr '\n' ' ' < "$work/nginx.$conns")"
done

# Durable submissions: every 201 is a committed, fsynced transaction.
out=$(BENCH_HASH=$hash BENCH_PREFIX=S1 wrk -t1 -c50 -d"${duration}s" \
  -s bench/submit.lua "http://127.0.0.1:$apm_port/" 2>&1)
subs=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
printf 'durable submissions, 50 connections: %.0f req/s (non-2xx: %s)\n' "$subs" "${bad:-0}"

# Fill to 100k stored requests, then measure the server's memory.
count() { curl -sf "http://127.0.0.1:$apm_port/metrics" | awk '/^apm_device_requests/ {s+=$2} END {print s}'; }
round=2
while [ "$(count)" -lt 100000 ]; do
  BENCH_HASH=$hash BENCH_PREFIX=S$round wrk -t1 -c50 -d10s -s bench/submit.lua \
    "http://127.0.0.1:$apm_port/" >/dev/null 2>&1
  round=$((round + 1))
done
wrk -t1 -c1000 -d5s "$status_url" >/dev/null 2>&1
rss=$(awk '/VmRSS/ {print $2}' "/proc/$apm_pid/status")
db=$(du -sm "$work/data" | cut -f1)
printf 'stored requests: %s; server RSS: %d MiB; database: %s MiB\n' "$(count)" $((rss / 1024)) "$db"
