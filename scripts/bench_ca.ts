/**
 * Leaf issuance cost: a fresh CA, then N leaves for distinct host names (each a new signature
 * with the shared leaf key), and the same names again through the cache. Then RSA leaves (for
 * clients without ECDSA): the first one on each of 10 fresh CAs (RSA-2048 key generation plus the
 * issuance), and N/5 more for new hosts.
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

// RSA: the first leaf of a process generates the shared RSA-2048 key (time varies with the primes).
const firstRsa: number[] = [];
for (let i = 0; i < 10; i++) {
  const other = new LeafCache((await CertificateAuthority.create()).ca);
  await other.get(["warm-up.test"]); // x509 loaded, ECDSA key made: only the RSA part is timed
  const s = performance.now();
  await other.get(["first-rsa.test"], "rsa");
  firstRsa.push(performance.now() - s);
}
const rsa: number[] = [];
await cache.get(["rsa-warm-up.test"], "rsa"); // makes this CA's RSA key: the loop times issuance
for (let i = 0; i < Math.max(1, Math.floor(n / 5)); i++) {
  const s = performance.now();
  await cache.get([`rsa${i}.example.test`], "rsa");
  rsa.push(performance.now() - s);
}
console.log(
  `  first RSA leaf (10 CAs):  ${stats(firstRsa)}, max ${Math.max(...firstRsa).toFixed(1)} ms`,
);
console.log(`  new host, RSA (${rsa.length} names): ${stats(rsa)}`);
