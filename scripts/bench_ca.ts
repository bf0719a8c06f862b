/**
 * Leaf issuance cost: a fresh CA, then N leaves for distinct host names (each a new signature
 * with the shared leaf key), and the same names again through the cache.
 *
 *   deno run -A scripts/bench_ca.ts [N]     bun scripts/bench_ca.ts [N]
 */
import process from "node:process";
import { CertificateAuthority, LeafCache } from "../src/ca/mod.ts";
import { runtime } from "../src/runtime/mod.ts";

const n = Number(process.argv[2] ?? 500);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms`;
}

const t0 = performance.now();
const { ca } = await CertificateAuthority.create();
const caMs = performance.now() - t0;
const cache = new LeafCache(ca, n * 2);
await cache.get(["warm-up.test"]); // loads @peculiar/x509 and makes the shared leaf key

const fresh: number[] = [];
for (let i = 0; i < n; i++) {
  const s = performance.now();
  await cache.get([`host${i}.example.test`]);
  fresh.push(performance.now() - s);
}
const cached: number[] = [];
for (let i = 0; i < n; i++) {
  const s = performance.now();
  await cache.get([`host${i}.example.test`]);
  cached.push(performance.now() - s);
}
console.log(`${runtime.name} ${runtime.version}: CA created in ${caMs.toFixed(1)} ms`);
console.log(`  new host (${n} names):    ${stats(fresh)}`);
console.log(`  cached host (${n} names): ${stats(cached)}`);
