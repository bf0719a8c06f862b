/**
 * LeafCache: single-flight issuance under concurrency, the LRU bound, failures not cached, and
 * renewal of leaves close to expiry. Issuances are counted at the CA, not only by the cache.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CertificateAuthority, type Leaf, LeafCache, type LeafKeyType } from "../../src/ca/mod.ts";
import { x509 } from "../../src/ca/x509.ts";
import { DAY } from "./helpers.ts";

let shared: Promise<CertificateAuthority> | null = null;
function realCa(): Promise<CertificateAuthority> {
  return shared ??= CertificateAuthority.create().then((r) => r.ca);
}

/** A CA whose issue() calls are recorded (and can be made to fail) before the real one runs. */
function countingCa(
  real: CertificateAuthority,
  fail: (names: readonly string[], call: number) => boolean = () => false,
) {
  const calls: string[][] = [];
  const ca = {
    issue(names: readonly string[], now?: number, keyType?: LeafKeyType): Promise<Leaf> {
      calls.push([...names]);
      if (fail(names, calls.length)) {
        // Fails later, as a real issuance would (after the signature, say).
        return new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`issuance ${calls.length} failed`)), 5)
        );
      }
      return real.issue(names, now, keyType);
    },
  };
  return { ca: ca as unknown as CertificateAuthority, calls };
}

/**
 * A CA that issues placeholder leaves ("leaf 1", "leaf 2", ... in the order asked), each valid for
 * `validFor(names, n)` milliseconds from now.
 */
function placeholderCa(validFor: (names: readonly string[], n: number) => number) {
  const calls: string[][] = [];
  const ca = {
    issue(names: readonly string[]): Promise<Leaf> {
      calls.push([...names]);
      const n = calls.length;
      return Promise.resolve({
        names,
        certPem: `leaf ${n}`,
        certDer: new Uint8Array(0),
        keyPem: "",
        keyType: "ecdsa",
        notAfter: new Date(Date.now() + validFor(names, n)),
      });
    },
  };
  return { ca: ca as unknown as CertificateAuthority, calls };
}

function cnOf(leaf: Leaf): string[] {
  return new x509.X509Certificate(leaf.certPem).subjectName.getField("CN");
}

test("100 concurrent get() for the same names: one issuance, one leaf for all", async () => {
  const { ca, calls } = countingCa(await realCa());
  const cache = new LeafCache(ca);
  const leaves = await Promise.all(
    Array.from({ length: 100 }, () => cache.get(["same.test", "alt.same.test"])),
  );
  assert.equal(calls.length, 1);
  assert.equal(cache.issued, 1);
  assert.equal(cache.size, 1);
  assert.ok(leaves.every((l) => l === leaves[0]));
  assert.deepEqual(leaves[0].names, ["same.test", "alt.same.test"]);
  // Later calls are hits too.
  assert.equal(await cache.get(["same.test", "alt.same.test"]), leaves[0]);
  assert.equal(calls.length, 1);
});

test("20 distinct name sets, 100 concurrent get() calls each: exactly 20 issuances", async () => {
  const { ca, calls } = countingCa(await realCa());
  const cache = new LeafCache(ca);
  const sets = Array.from({ length: 20 }, (_, i) => [`host${i}.test`, `www.host${i}.test`]);
  // Interleaved: every round asks for every set once.
  const pending: Array<{ i: number; leaf: Promise<Leaf> }> = [];
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < sets.length; i++) pending.push({ i, leaf: cache.get(sets[i]) });
  }
  const got = await Promise.all(pending.map(async (p) => ({ i: p.i, leaf: await p.leaf })));
  assert.equal(calls.length, 20);
  assert.equal(cache.issued, 20);
  assert.equal(cache.size, 20);
  assert.deepEqual(calls.map((c) => c[0]).sort(), sets.map((s) => s[0]).sort());
  const byIndex = new Map<number, Leaf>();
  for (const { i, leaf } of got) {
    assert.deepEqual(leaf.names, sets[i]);
    if (!byIndex.has(i)) byIndex.set(i, leaf);
    assert.equal(leaf, byIndex.get(i));
  }
  // The certificates themselves name the right hosts.
  for (const [i, leaf] of byIndex) assert.deepEqual(cnOf(leaf), [sets[i][0]]);
});

test("the order of names is part of the key (the first one is the CN)", async () => {
  const { ca, calls } = countingCa(await realCa());
  const cache = new LeafCache(ca);
  const ab = await cache.get(["a.test", "b.test"]);
  const ba = await cache.get(["b.test", "a.test"]);
  assert.equal(calls.length, 2);
  assert.deepEqual(cnOf(ab), ["a.test"]);
  assert.deepEqual(cnOf(ba), ["b.test"]);
  assert.equal(await cache.get(["a.test", "b.test"]), ab);
  assert.equal(calls.length, 2);
});

test("LRU: beyond its capacity the least recently used leaf goes first", async () => {
  const { ca, calls } = countingCa(await realCa());
  const cache = new LeafCache(ca, 3);
  const a = await cache.get(["a.test"]);
  await cache.get(["b.test"]);
  await cache.get(["c.test"]);
  assert.equal(cache.size, 3);
  // Touch a: b is now the least recently used.
  assert.equal(await cache.get(["a.test"]), a);
  await cache.get(["d.test"]);
  assert.equal(cache.size, 3);
  assert.equal(calls.length, 4);
  // a, c and d are still cached...
  assert.equal(await cache.get(["a.test"]), a);
  await cache.get(["c.test"]);
  await cache.get(["d.test"]);
  assert.equal(calls.length, 4);
  // ...b was evicted: asking again issues it again (and evicts a, now the oldest use).
  await cache.get(["b.test"]);
  assert.equal(calls.length, 5);
  assert.deepEqual(calls.at(-1), ["b.test"]);
  assert.equal(cache.size, 3);
  assert.notEqual(await cache.get(["a.test"]), a);
  assert.equal(calls.length, 6);
  assert.equal(cache.issued, 6);
});

test("a failed issuance is shared by the concurrent callers, then not cached", async () => {
  const { ca, calls } = countingCa(
    await realCa(),
    (names, call) => names[0] === "bad.test" && call === 1,
  );
  const cache = new LeafCache(ca);
  const attempts = Array.from({ length: 10 }, () => cache.get(["bad.test"]));
  const results = await Promise.allSettled(attempts);
  assert.ok(results.every((r) => r.status === "rejected"));
  assert.match(String((results[0] as PromiseRejectedResult).reason), /issuance 1 failed/);
  assert.equal(calls.length, 1);
  assert.equal(cache.size, 0);
  // The next call issues again, and succeeds.
  const leaf = await cache.get(["bad.test"]);
  assert.deepEqual(leaf.names, ["bad.test"]);
  assert.equal(calls.length, 2);
  assert.equal(cache.size, 1);
  assert.equal(await cache.get(["bad.test"]), leaf);
  assert.equal(calls.length, 2);
});

test("a failure does not evict or poison other entries", async () => {
  const { ca, calls } = countingCa(await realCa(), (names) => names[0] === "always-bad.test");
  const cache = new LeafCache(ca, 2);
  const good = await cache.get(["good.test"]);
  await assert.rejects(cache.get(["always-bad.test"]));
  await assert.rejects(cache.get(["always-bad.test"]));
  assert.equal(calls.length, 3);
  assert.equal(cache.size, 1);
  assert.equal(await cache.get(["good.test"]), good);
  assert.equal(calls.length, 3);
});

test("a leaf within 7 days of expiry is renewed once, however many callers notice", async () => {
  // The first leaf is about to expire, the renewal is fresh.
  const { ca: fake, calls } = placeholderCa((_, n) => n === 1 ? 2 * DAY : 180 * DAY);
  const cache = new LeafCache(fake);
  const old = await cache.get(["renew.test"]);
  assert.equal(old.certPem, "leaf 1");
  const renewed = await Promise.all(Array.from({ length: 50 }, () => cache.get(["renew.test"])));
  assert.equal(calls.length, 2);
  assert.ok(renewed.every((l) => l.certPem === "leaf 2"));
  assert.equal(cache.size, 1);
  // The fresh one is kept.
  assert.equal((await cache.get(["renew.test"])).certPem, "leaf 2");
  assert.equal(calls.length, 2);
  assert.equal(cache.issued, 2);
});

test("the same names with an ECDSA and an RSA key are two leaves, each issued once", async () => {
  const { ca, calls } = countingCa(await realCa());
  const cache = new LeafCache(ca);
  const [ec1, rsa1, ec2, rsa2] = await Promise.all([
    cache.get(["both.test"]),
    cache.get(["both.test"], "rsa"),
    cache.get(["both.test"], "ecdsa"),
    cache.get(["both.test"], "rsa"),
  ]);
  assert.equal(calls.length, 2);
  assert.equal(ec1, ec2);
  assert.equal(rsa1, rsa2);
  assert.equal(ec1.keyType, "ecdsa");
  assert.equal(rsa1.keyType, "rsa");
  assert.notEqual(ec1.keyPem, rsa1.keyPem);
});

test("cached(): the issued leaf at once, nothing before it is issued or when it is to be renewed", async () => {
  // "soon.test" expires within the renewal window; the others are fresh.
  const { ca: fake, calls } = placeholderCa((names) => (names[0] === "soon.test" ? 2 : 180) * DAY);
  const cache = new LeafCache(fake, 2);
  assert.equal(cache.cached(["a.test"]), undefined, "never asked for");
  const pending = cache.get(["a.test"]);
  assert.equal(cache.cached(["a.test"]), undefined, "still being issued");
  const leaf = await pending;
  assert.equal(cache.cached(["a.test"]), leaf);
  assert.equal(cache.cached(["a.test"], "rsa"), undefined, "another key type is another leaf");
  assert.equal(calls.length, 1, "cached() issues nothing");

  await cache.get(["soon.test"]);
  assert.equal(cache.cached(["soon.test"]), undefined, "close to expiry: get() renews it");

  // cached() marks a leaf most recently used: "b.test" pushes out "soon.test", not "a.test".
  cache.cached(["a.test"]);
  await cache.get(["b.test"]);
  assert.equal(cache.cached(["a.test"]), leaf);
  assert.equal(cache.size, 2);
  assert.equal(calls.length, 3);
});
