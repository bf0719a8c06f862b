#!/bin/bash
# The proxy's CPU per request, thread by thread (from /proc), under HTTP keep-alive load:
#
#   scripts/bench/thread_cpu.sh TARGET SECONDS [proxy flags...]
#   e.g. scripts/bench/thread_cpu.sh http://127.0.0.1:18080/1k 6 --no-web
#
# TARGET is an origin already running (nginx serving a 1 KiB file, say). The proxy runs on Bun
# with the bench's flags (--smol) on port 18888 (the web UI, when on, wherever the flags say);
# loadgen.mjs sends 16 keep-alive connections' requests through it, 2 s of warm-up, then SECONDS
# measured. Per thread: µs of CPU per answered request, and its share of one core over the run
# (the load generator's start included).
set -euo pipefail
target=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/node_modules/.bin
conf=$(mktemp -d)
trap 'kill -INT $pid 2>/dev/null || true; rm -rf "$conf"' EXIT
(cd "$root" && exec "$bin/bun" --smol cli.ts -p 18888 --confdir "$conf" -q -k "$@") >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -s -o /dev/null -x http://127.0.0.1:18888 "$target" && break
  sleep 0.1
done
load() { "$bin/bun" "$root/scripts/bench/loadgen.mjs" --proxy http://127.0.0.1:18888 --target "$target" --mode keepalive --connections 16 --duration "$1"; }
load 2 >/dev/null
snap() { for t in /proc/$pid/task/*; do echo "$(basename "$t") $(tr ' ' _ <"$t/comm") $(awk '{print $14+$15}' "$t/stat")"; done | sort; }
t0=$(date +%s%N)
before=$(snap)
result=$(load "$secs")
after=$(snap)
wall=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "$result"
answered=$(echo "$result" | sed -E 's/.*"answered":([0-9]+).*/\1/')
hz=$(getconf CLK_TCK)
join <(echo "$before") <(echo "$after") | awk -v n="$answered" -v ms="$wall" -v hz="$hz" '
  { d = $5 - $3; if (d > 0) { printf "%-16s %7.1f us/req %5.0f%%\n", $2, d * 1e6 / hz / n, 100000 * d / hz / ms; all += d } }
  END { printf "%-16s %7.1f us/req\n", "all threads", all * 1e6 / hz / n }'
