#!/bin/bash
# New HTTPS connections through two proxies, alternated round by round in one run:
#
#   scripts/bench/newconn_ab.sh ROUNDS SECONDS DIR_A CORE_A DIR_B CORE_B [PROXY_ARGS...]
#   e.g. scripts/bench/newconn_ab.sh 5 10 . "" ../classic classic
#
# Starts `bun --smol cli.ts --no-web` of checkout DIR_A and of DIR_B (MITM_PROXY_CORE=CORE_*),
# warms each for WARMUP seconds (default 5), then for each round sends new connections (CONNECT +
# TLS + one request, 16 at a time, loadgen.mjs --mode newconn) through A, then through B, and
# prints per round and proxy: connections/s, the proxy's CPU ms a connection and its minor page
# faults a connection (both from /proc/PID/stat over that round). CONNECTIONS (default 16) and
# TARGET (default https://127.0.0.1:18443/1k, an origin already running) may be set in the
# environment.
set -euo pipefail
rounds=$1 secs=$2 dir_a=$(cd "$3" && pwd) core_a=$4 dir_b=$(cd "$5" && pwd) core_b=$6
shift 6
root=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=$root/node_modules/.bin:$PATH
target=${TARGET:-https://127.0.0.1:18443/1k}
work=$(mktemp -d)
port_a=$((20000 + RANDOM % 5000)) port_b=$((25000 + RANDOM % 5000))
trap 'pkill -INT -f "cli.ts -p $port_a " || true; pkill -INT -f "cli.ts -p $port_b " || true; rm -rf "$work"' EXIT
start() { # dir core port
  (cd "$1" && MITM_PROXY_CORE=$2 exec bun --smol cli.ts -p "$3" --confdir "$work/$3" -q -k \
    --no-web "${@:4}") >/dev/null 2>&1 &
  for _ in $(seq 100); do curl -s -o /dev/null -x "http://127.0.0.1:$3" "$target" -k && return; sleep 0.1; done
  echo "the proxy of $1 did not start" >&2
  exit 1
}
start "$dir_a" "$core_a" $port_a "$@"
start "$dir_b" "$core_b" $port_b "$@"
pid_a=$(pgrep -f "cli.ts -p $port_a " | head -1) pid_b=$(pgrep -f "cli.ts -p $port_b " | head -1)
stat() { awk '{print $14 + $15, $10}' "/proc/$1/stat"; } # CPU ticks (1/100 s), minor faults
load() {
  node "$root/scripts/bench/loadgen.mjs" --proxy "http://127.0.0.1:$1" --target "$target" \
    --mode newconn --connections "${CONNECTIONS:-16}" --duration "$2" --warmup 0 |
    sed -E 's/.*"answered":([0-9]+).*"seconds":([0-9.]+).*/\1 \2/'
}
load $port_a "${WARMUP:-5}" >/dev/null
load $port_b "${WARMUP:-5}" >/dev/null
for r in $(seq "$rounds"); do
  for side in A B; do
    if [ $side = A ]; then port=$port_a pid=$pid_a; else port=$port_b pid=$pid_b; fi
    read -r cpu0 flt0 < <(stat "$pid")
    read -r n s < <(load "$port" "$secs")
    read -r cpu1 flt1 < <(stat "$pid")
    awk -v r="$r" -v side=$side -v n="$n" -v s="$s" -v c=$((cpu1 - cpu0)) -v f=$((flt1 - flt0)) \
      'BEGIN { printf "round %d %s: %.0f conn/s, %.3f ms CPU a connection, %.1f page faults a connection\n", r, side, n / s, c * 10 / n, f / n }'
  done
done
