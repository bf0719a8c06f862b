#!/bin/bash
# Garbage a new HTTPS connection leaves, from JavaScriptCore's GC log:
#
#   scripts/bench/gc_per_conn.sh DIR [MITM_PROXY_CORE] [SECONDS] [PROXY_ARGS...]
#
# Runs `bun --smol cli.ts --no-web` of checkout DIR with BUN_JSC_logGC=1, sends new connections
# through it (loadgen.mjs --mode newconn, 16 at a time) for SECONDS (default 15), and prints the
# collections, the KB they freed a connection (heap size at each collection's start less its size
# after it, summed) and their pauses in µs a connection. TARGET as in newconn_ab.sh.
set -euo pipefail
dir=$(cd "$1" && pwd) core=${2:-} secs=${3:-15}
shift $(($# < 3 ? $# : 3))
root=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=$root/node_modules/.bin:$PATH
target=${TARGET:-https://127.0.0.1:18443/1k}
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
trap 'pkill -INT -f "cli.ts -p $port " || true; rm -rf "$work"' EXIT
(cd "$dir" && MITM_PROXY_CORE=$core BUN_JSC_logGC=1 exec bun --smol cli.ts -p $port \
  --confdir "$work" -q -k --no-web "$@") >"$work/gc.log" 2>&1 &
for _ in $(seq 100); do curl -s -o /dev/null -x "http://127.0.0.1:$port" "$target" -k && break; sleep 0.1; done
: >"$work/gc.log" # the collections of start-up are not counted
n=$(node "$root/scripts/bench/loadgen.mjs" --proxy "http://127.0.0.1:$port" --target "$target" \
  --mode newconn --connections 16 --duration "$secs" --warmup 0 |
  sed -E 's/.*"answered":([0-9]+).*/\1/')
pkill -INT -f "cli.ts -p $port " || true
sleep 1
node -e '
const [log, conns] = [require("fs").readFileSync(process.argv[1], "utf8"), Number(process.argv[2])];
let freed = 0, pause = 0, count = 0;
for (const m of log.matchAll(/START M (\d+)kb => \w+/g)) {
  const end = /=> (\d+)kb, p=([0-9.]+)ms/.exec(log.slice(m.index + m[0].length));
  if (!end) continue;
  freed += Number(m[1]) - Number(end[1]);
  pause += Number(end[2]);
  count++;
}
console.log(`${conns} connections, ${count} collections, ${(freed / conns).toFixed(1)} KB freed a connection, pauses ${(pause * 1000 / conns).toFixed(1)} µs a connection`);
' "$work/gc.log" "$n"
