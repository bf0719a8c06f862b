import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { MessageInflater } from "../../src/websocket/inflate.ts";
import { randomBytes, text, utf8 } from "./helpers.ts";

/** A sender's compressor with context takeover: one deflateRaw stream, a sync flush per message. */
function compressor() {
  const d = zlib.createDeflateRaw({ windowBits: 15 });
  return (data: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve) => {
      const parts: Uint8Array[] = [];
      const on = (c: Uint8Array) => parts.push(c);
      d.on("data", on);
      d.write(data);
      d.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        d.off("data", on);
        const all = Buffer.concat(parts);
        assert.deepEqual([...all.subarray(-4)], [0, 0, 0xff, 0xff]);
        resolve(all.subarray(0, all.length - 4)); // RFC 7692 7.2.1: the trailer is removed
      });
    });
}

test("context takeover over many messages and more than 32 KiB of history", async () => {
  const compress = await compressor();
  const inflater = new MessageInflater();
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) {
    // repeats earlier messages (back-references into the history) plus a fresh part
    const body = `message ${i} ` + (seen[i - 1] ?? "").slice(0, 3000) + "x".repeat(i * 500) +
      text(randomBytes(200).map((b) => 0x41 + (b % 26)));
    const compressed = await compress(utf8(body));
    if (i > 1) assert.ok(compressed.length < body.length / 2, `message ${i} was compressed`);
    assert.equal(text(inflater.inflate(compressed)), body, `message ${i}`);
    seen.push(body);
  }
});

test("incompressible binary messages over 64 KiB (stored blocks longer than one block's 65535)", async () => {
  const compress = await compressor();
  const inflater = new MessageInflater();
  for (const n of [70_000, 200_000, 10]) {
    const data = randomBytes(n);
    assert.deepEqual(inflater.inflate(await compress(data)), data);
  }
});

test("a message whose output would pass maxOutput is refused with 1009", async () => {
  const compress = await compressor();
  const inflater = new MessageInflater(1000);
  assert.throws(
    () => inflater.inflate(zlib.deflateRawSync(new Uint8Array(5000))),
    /more than 1000/,
  );
  assert.equal(
    new MessageInflater(1000).inflate(await compress(new Uint8Array(1000))).length,
    1000,
  );
});
