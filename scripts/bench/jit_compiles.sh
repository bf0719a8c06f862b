#!/bin/bash
# How much JavaScript the JIT compiles while a proxy takes new HTTPS connections:
#
#   scripts/bench/jit_compiles.sh DIR SECONDS TARGET [MITM_PROXY_CORE]
#   e.g. scripts/bench/jit_compiles.sh . 18 https://127.0.0.1:18443/1k
#
# Runs the proxy of checkout DIR (`bun --smol cli.ts --no-web`, as the bench does) with
# JavaScriptCore's compile reports on (BUN_JSC_report{Baseline,DFG,FTL}CompileTimes), sends new
# HTTPS connections through it (loadgen.mjs --mode newconn, 16 at a time) for SECONDS, and prints
# per JIT tier the functions compiled, their bytecodes, the machine code made and the compile time,
# then the largest functions the optimising tier (FTL) compiled. Bytecodes and code sizes are
# steadier than the compile times, which move with the machine's load. TARGET is an HTTPS origin
# already running (nginx serving a 1 KiB file, say).
set -euo pipefail
dir=$(cd "$1" && pwd) secs=$2 target=$3 core=${4:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/node_modules/.bin
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
trap 'pkill -INT -f "cli.ts -p $port " 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$dir" && MITM_PROXY_CORE=$core BUN_JSC_reportBaselineCompileTimes=1 \
  BUN_JSC_reportDFGCompileTimes=1 BUN_JSC_reportFTLCompileTimes=1 \
  exec "$bin/bun" --smol cli.ts -p $port --confdir "$work" -q -k --no-web) >/dev/null 2>"$work/compiles.txt" &
for _ in $(seq 100); do
  curl -s -o /dev/null -x http://127.0.0.1:$port "$target" -k && break
  sleep 0.1
done
node "$root/scripts/bench/loadgen.mjs" --proxy http://127.0.0.1:$port --target "$target" \
  --mode newconn --connections 16 --duration "$secs" --warmup 0 |
  sed -E 's/.*"answered":([0-9]+).*/\1 connections/'
pkill -INT -f "cli.ts -p $port "
sleep 1
node - "$work/compiles.txt" "${TOP:-15}" <<'JS'
const [file, top] = process.argv.slice(2);
const text = require("node:fs").readFileSync(file, "utf8");
// "Optimized name#hash:[..., 7483 (StrictMode)] using FTL with FTL into 33792 bytes in 133.3 ms"
const re = /^Optimized (\S*?#\w+):\[.*?, (\d+) (?:\(\w+\) )*\(StrictMode\)\] using \S+ with (\S+) into (\d+) bytes in ([\d.]+) ms/gm;
const tiers = new Map();
const ftl = [];
for (const m of text.matchAll(re)) {
  const [, name, bytecodes, tier, bytes, ms] = m;
  const t = tiers.get(tier) ?? { functions: 0, bytecodes: 0, bytes: 0, ms: 0 };
  t.functions++;
  t.bytecodes += +bytecodes;
  t.bytes += +bytes;
  t.ms += +ms;
  tiers.set(tier, t);
  if (tier === "FTL") ftl.push([+bytecodes, name]);
}
for (const [tier, t] of tiers) {
  console.log(
    `${tier.padEnd(8)} ${String(t.functions).padStart(4)} compiles, ${t.bytecodes} bytecodes, ` +
      `${Math.round(t.bytes / 1024)} KiB of code, ${Math.round(t.ms)} ms`,
  );
}
ftl.sort((a, b) => b[0] - a[0]);
console.log(`largest FTL compiles (bytecodes): ` + ftl.slice(0, +top).map(([b, n]) => `${n} ${b}`).join(", "));
JS
