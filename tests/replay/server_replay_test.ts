/**
 * Server replay end to end: flows recorded through the proxy from real origins, then answered
 * from the recording (curl as the client), each matching option and server_replay_extra.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { flowsToHar } from "../../src/flow/har.ts";
import { readFlows } from "../../src/flow/record_file.ts";
import { type EchoOrigin, echoOrigin } from "../addons/helpers.ts";
import { curlVia, fileIn, get, recordInto, withOptions } from "./e2e_helpers.ts";
import { tempDir } from "./helpers.ts";

/** An origin answering "n=<how many requests so far> METHOD URL BODY". */
function countingOrigin(): Promise<EchoOrigin> {
  let n = 0;
  return echoOrigin((req, res) => {
    n++;
    res.writeHead(200, { "Content-Type": "text/plain", "X-Count": String(n) });
    res.end(`n=${n} ${req.method} ${req.url} ${req.body.toString()}`);
  });
}

test("server replay: recorded answers come back without contacting the origin; extra=forward", async () => {
  const { dir, remove } = tempDir();
  const origin = await countingOrigin();
  const file = fileIn(dir, "rec.jsonl");
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await recordInto(file, async ({ url }) => {
      assert.equal((await get(url, [`${base}/a?x=1`])).body, "n=1 GET /a?x=1 ");
      assert.equal((await get(url, ["-d", "payload", `${base}/b`])).body, "n=2 POST /b payload");
    });
    await withOptions({ server_replay: [file] }, async ({ url, log }) => {
      const a = await get(url, [`${base}/a?x=1`]);
      assert.equal(a.body, "n=1 GET /a?x=1 ");
      assert.ok(a.headers.some(([k, v]) => k === "X-Count" && v === "1"));
      assert.equal((await get(url, ["-d", "payload", `${base}/b`])).body, "n=2 POST /b payload");
      assert.equal(origin.received.length, 2, "answered from the recording");
      // Not recorded (or used up): forwarded to the origin, by default.
      assert.equal((await get(url, ["-d", "other", `${base}/b`])).body, "n=3 POST /b other");
      assert.equal((await get(url, [`${base}/a?x=1`])).body, "n=4 GET /a?x=1 ");
      assert.ok(log.some((l) => /server replay: 2 flows \(2 distinct requests\) loaded/.test(l)));
    });
  } finally {
    await origin.close();
    remove();
  }
});

test("server replay: extra=404 and extra=kill; reuse answers the same flow again", async () => {
  const { dir, remove } = tempDir();
  const origin = await countingOrigin();
  const file = fileIn(dir, "rec.jsonl");
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await recordInto(file, async ({ url }) => {
      await get(url, [`${base}/same`]);
      await get(url, [`${base}/same`]);
    });
    await withOptions({ server_replay: [file], server_replay_extra: "404" }, async ({ url }) => {
      assert.equal((await get(url, [`${base}/same`])).body, "n=1 GET /same ");
      assert.equal((await get(url, [`${base}/same`])).body, "n=2 GET /same ");
      const used = await get(url, [`${base}/same`]);
      assert.equal(used.status, 404);
      assert.match(used.body, /no recorded response for GET http:\/\/127\.0\.0\.1:\d+\/same/);
    });
    await withOptions({ server_replay: [file], server_replay_extra: "kill" }, async ({ url }) => {
      const r = await curlVia(url, [`${base}/never`]);
      assert.equal(r.code, 52, `curl: empty reply from server, got ${r.code} ${r.stderr}`);
    });
    await withOptions({ server_replay: [file], server_replay_reuse: true }, async ({ url }) => {
      for (let i = 0; i < 3; i++) {
        assert.equal((await get(url, [`${base}/same`])).body, "n=1 GET /same ");
      }
    });
    assert.equal(origin.received.length, 2);
  } finally {
    await origin.close();
    remove();
  }
});

test("server replay: ignore host, port, params, payload params, content; use headers", async () => {
  const { dir, remove } = tempDir();
  const origin = await countingOrigin();
  const file = fileIn(dir, "rec.jsonl");
  const base = `http://127.0.0.1:${origin.port}`;
  const form = ["-H", "Content-Type: application/x-www-form-urlencoded"];
  try {
    await recordInto(file, async ({ url }) => {
      await get(url, [`${base}/q?id=7&t=111`]); // n=1
      await get(url, [...form, "-d", "user=ann&nonce=1", `${base}/login`]); // n=2
      await get(url, ["-d", "blob-1", `${base}/upload`]); // n=3
      await get(url, ["-H", "X-Tenant: red", `${base}/tenant`]); // n=4
    });
    const other = "http://localhost:1"; // another host and port, nothing listening
    const reuse = { server_replay: [file], server_replay_reuse: true, server_replay_extra: "404" };
    await withOptions(reuse, async ({ url }) => {
      assert.equal((await get(url, [`${base}/q?id=7&t=222`])).status, 404);
      assert.equal((await get(url, [`${other}/q?id=7&t=111`])).status, 404);
    });
    await withOptions({
      ...reuse,
      server_replay_ignore_host: true,
      server_replay_ignore_port: true,
      server_replay_ignore_params: ["t"],
    }, async ({ url }) => {
      assert.match((await get(url, [`${other}/q?id=7&t=222`])).body, /^n=1 /);
      assert.equal((await get(url, [`${other}/q?id=8&t=111`])).status, 404, "id still counts");
    });
    await withOptions({ ...reuse, server_replay_ignore_port: true }, async ({ url }) => {
      assert.match((await get(url, [`http://127.0.0.1:1/q?id=7&t=111`])).body, /^n=1 /);
      assert.equal((await get(url, [`${other}/q?id=7&t=111`])).status, 404, "host still counts");
    });
    await withOptions(
      { ...reuse, server_replay_ignore_payload_params: ["nonce"] },
      async ({ url }) => {
        const r = await get(url, [...form, "-d", "user=ann&nonce=99", `${base}/login`]);
        assert.match(r.body, /^n=2 /);
        const bob = await get(url, [...form, "-d", "user=bob&nonce=1", `${base}/login`]);
        assert.equal(bob.status, 404);
      },
    );
    await withOptions({ ...reuse }, async ({ url }) => {
      assert.equal((await get(url, ["-d", "blob-2", `${base}/upload`])).status, 404);
      // Without use_headers, another X-Tenant still matches.
      assert.match((await get(url, ["-H", "X-Tenant: blue", `${base}/tenant`])).body, /^n=4 /);
    });
    await withOptions({ ...reuse, server_replay_ignore_content: true }, async ({ url }) => {
      assert.match((await get(url, ["-d", "blob-2", `${base}/upload`])).body, /^n=3 /);
    });
    await withOptions({ ...reuse, server_replay_use_headers: ["x-tenant"] }, async ({ url }) => {
      assert.equal((await get(url, ["-H", "X-Tenant: blue", `${base}/tenant`])).status, 404);
      assert.match((await get(url, ["-H", "X-Tenant: red", `${base}/tenant`])).body, /^n=4 /);
    });
    assert.equal(origin.received.length, 4, "nothing reached the origin while replaying");
  } finally {
    await origin.close();
    remove();
  }
});

test("server replay: HAR files work as input; gzip bodies are sent as recorded", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin(async (_req, res) => {
    const zlib = await import("node:zlib");
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "gzip" });
    res.end(zlib.gzipSync("zipped answer"));
  });
  const file = fileIn(dir, "rec.jsonl");
  const har = fileIn(dir, "rec.har");
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await recordInto(file, async ({ url }) => {
      await get(url, ["--compressed", `${base}/z`]);
    });
    writeFileSync(har, JSON.stringify(flowsToHar(readFlows(file).flows)));
    await origin.close();
    for (const input of [file, har]) {
      await withOptions({ server_replay: [input], server_replay_extra: "404" }, async ({ url }) => {
        const r = await get(url, ["--compressed", `${base}/z`]);
        assert.equal(r.status, 200, input);
        assert.equal(r.body, "zipped answer", input);
        assert.ok(r.headers.some(([k, v]) => /^content-encoding$/i.test(k) && v === "gzip"));
      });
    }
  } finally {
    await origin.close();
    remove();
  }
});

test("server replay: a missing file is a one-line option error", async () => {
  await assert.rejects(
    withOptions({ server_replay: ["/no/such/rec.jsonl"] }, () => Promise.resolve()),
    /^OptionError: option server_replay: cannot read \/no\/such\/rec\.jsonl \(no such file\)$/,
  );
});
