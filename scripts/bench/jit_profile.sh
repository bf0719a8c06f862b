#!/bin/bash
# Where a new HTTPS connection's CPU goes, with names for the JIT-compiled JavaScript:
#
#   scripts/bench/jit_profile.sh DIR WARMUP TARGET [MITM_PROXY_CORE]
#   e.g. scripts/bench/jit_profile.sh . 60 https://127.0.0.1:18443/1k
#        scripts/bench/jit_profile.sh ../classic 60 https://127.0.0.1:18443/1k classic
#
# Runs the proxy of checkout DIR (`bun --smol cli.ts`, as the bench does) under `perf record`
# with JavaScriptCore's perf dump on (BUN_JSC_useJITDump), sends new HTTPS connections through it
# (loadgen.mjs --mode newconn, 16 at a time) for WARMUP seconds, then 10 seconds more, and prints
# for that last window: perf samples per 1,000 connections by thread and code (the Bun
# executable, the kernel, JIT-compiled JavaScript; at 999 Hz a sample is about 1 ms, so samples
# per 1,000 connections read as µs a connection), then the JavaScript functions by tier.
# TARGET is an HTTPS origin already running (nginx serving a 1 KiB file, say). Needs perf.
set -euo pipefail
dir=$(cd "$1" && pwd) warm=$2 target=$3 core=${4:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/node_modules/.bin
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
trap 'pkill -INT -f "cli.ts -p $port" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
(cd "$dir" && MITM_PROXY_CORE=$core BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=$work \
  exec perf record -q -k mono -F 999 -o "$work/perf.data" \
  "$bin/bun" --smol cli.ts -p $port --confdir "$work" -q -k --no-web) >/dev/null 2>&1 &
for _ in $(seq 100); do
  curl -s -o /dev/null -x http://127.0.0.1:$port "$target" -k && break
  sleep 0.1
done
load() {
  node "$root/scripts/bench/loadgen.mjs" --proxy http://127.0.0.1:$port --target "$target" \
    --mode newconn --connections 16 --duration "$1"
}
load "$warm" >/dev/null
t0=$(awk '{print $1}' /proc/uptime)
result=$(load 10)
t1=$(awk '{print $1}' /proc/uptime)
pkill -INT -f "cli.ts -p $port"
sleep 3
n=$(echo "$result" | sed -E 's/.*"requests":([0-9]+).*/\1/')
echo "$n connections in the measured 10 s${KEEP:+ (files in $work)}"
perf script -i "$work/perf.data" -F comm,tid,time,ip,sym,dso 2>/dev/null >"$work/samples.txt"
node "$root/scripts/bench/jit_symbols.mjs" "$work"/jit-*.dump "$work/samples.txt" "$t0" "$t1" "$n"
