#!/usr/bin/env bash
# Durable submissions per second on PostgreSQL beside SQLite (same machine, same wrk script, one
# after the other), and status polls through two instances on one PostgreSQL database.
# Usage: bench/pg_bench.sh [seconds-per-run=10] [rounds=3]
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$APM_ROOT"
duration=${1:-10}
rounds=${2:-3}

apm_install_packages "${APM_PACKAGES[@]}" wrk
apm_build default apm-server
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/apm-pgbench.XXXXXX)
chmod 755 "$work"
server="$APM_ROOT/build/default/src/server/apm-server"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  tests/pg/cluster destroy "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

tests/pg/cluster start "$work/pg"
url=$(cat "$work/pg/url")
cat > "$work/apm.toml" <<TOML
HashVerification = "off"        # one hash for every serial
TrustedProxies = ["127.0.0.1"]   # bench/submit.lua gives each submission its own address
SubmitBurst = 1000000
SubmitRatePerMinute = 100000000
TOML
hash=$(python3 -c 'import json;print(json.load(open("docs/examples/sample-request.json"))["hardwareHash"])')

# start NAME PORT [env...]: an apm-server in the background, ready when /healthz answers.
start() {
  local name=$1 port=$2
  shift 2
  env "$@" "$server" --config "$work/apm.toml" --listen "127.0.0.1:$port" \
    --data-dir "$work/$name" > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
submit() {  # port prefix
  BENCH_HASH=$hash BENCH_PREFIX=$2 wrk -t1 -c50 -d"${duration}s" -s bench/submit.lua \
    "http://127.0.0.1:$1/" 2>&1 | awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "non-2xx", $NF > "/dev/stderr"}'
}

start sqlite 18191
start pg1 18192 APM_DATABASE_URL="$url"
start pg2 18193 APM_DATABASE_URL="$url"
echo "PostgreSQL $(psql --version | awk '{print $3}'), synchronous_commit=on, fsync=on; ${rounds} interleaved rounds of ${duration}s; wrk -t1 -c50"
: > "$work/sqlite.subs"; : > "$work/pg.subs"
for r in $(seq "$rounds"); do
  submit 18191 "L$r" >> "$work/sqlite.subs"
  submit 18192 "P$r" >> "$work/pg.subs"
done
printf 'durable submissions, 50 connections: SQLite %.0f req/s, PostgreSQL %.0f req/s  (runs: sqlite %s; pg %s)\n' \
  "$(median < "$work/sqlite.subs")" "$(median < "$work/pg.subs")" \
  "$(tr '\n' ' ' < "$work/sqlite.subs")" "$(tr '\n' ' ' < "$work/pg.subs")"

# Status polls of one request through both instances at once (each answers from its cache
# after the first read; the change feed keeps the caches right).
id=$(curl -sf -H 'Content-Type: application/json' --data @docs/examples/sample-request.json \
  "http://127.0.0.1:18192/api/v1/requests" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
: > "$work/polls"
for r in $(seq "$rounds"); do
  wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:18192/api/v1/requests/$id" > "$work/a" 2>&1 &
  wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:18193/api/v1/requests/$id" > "$work/b" 2>&1
  wait "$!"
  cat "$work/a" "$work/b" | awk '/Requests\/sec/ {s += $2} END {print s}' >> "$work/polls"
done
printf 'status polls through two instances at once (50 connections each): %.0f req/s together (runs: %s)\n' \
  "$(median < "$work/polls")" "$(tr '\n' ' ' < "$work/polls")"
