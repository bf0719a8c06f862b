/** GET /api/flows/:id/export: copy a recorded request as curl / fetch / HTTPie / raw. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingOrigin, runShell } from "../export/helpers.ts";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";
import { withWeb } from "./web_helpers.ts";

test("export formats through app.request(); bad format and unknown flow are one-line errors", async () => {
  const origin = await recordingOrigin();
  try {
    await withApi({}, async ({ proxy, req }) => {
      await viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/api?x=1`, {
        method: "POST",
        body: "it's a body",
        headers: ["Content-Type: text/plain", "X-Odd: a'b"],
      });
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows;
      });
      const curl = await req(`/api/flows/${flow.id}/export?format=curl`);
      assert.equal(curl.status, 200);
      assert.match(curl.headers.get("content-type")!, /^text\/plain/);
      const text = await curl.text();
      assert.match(text, /^curl 'http:\/\/127\.0\.0\.1:\d+\/api\?x=1'/);
      assert.match(text, /-H 'X-Odd: a'\\''b'/);
      assert.match(text, /--data-raw 'it'\\''s a body'/);
      assert.equal(
        await (await req(`/api/flows/${flow.id}/export`)).text(),
        text,
        "curl is the default",
      );
      assert.match(
        await (await req(`/api/flows/${flow.id}/export?format=fetch`)).text(),
        /^await fetch\(/,
      );
      assert.match(
        await (await req(`/api/flows/${flow.id}/export?format=httpie`)).text(),
        /^http /,
      );
      const raw = await req(`/api/flows/${flow.id}/export?format=raw`);
      assert.equal(raw.headers.get("content-type"), "application/octet-stream");
      assert.match(
        await raw.text(),
        /^POST \/api\?x=1 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n[^]*\r\n\r\nit's a body$/,
      );

      const bad = await req(`/api/flows/${flow.id}/export?format=wget`);
      assert.equal(bad.status, 400);
      assert.match(
        (await bad.json()).error,
        /unknown format "wget": use one of curl, fetch, httpie, raw/,
      );
      assert.equal((await req(`/api/flows/nope/export`)).status, 404);
    });
  } finally {
    await origin.close();
  }
});

test("end to end: a binary POST through the proxy, exported as curl, run again, reaches the origin the same", async () => {
  const origin = await recordingOrigin();
  const dir = mkdtempSync(join(tmpdir(), "mitm-export-"));
  try {
    const bodyFile = join(dir, "body.bin");
    const body = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
    writeFileSync(bodyFile, body);
    await withWeb({}, async ({ api, apiJson, via }) => {
      const first = await via([
        "-H",
        "Content-Type: application/x-thing",
        "-H",
        "X-Quote: \"$HOME\" 'x'",
        "--data-binary",
        `@${bodyFile}`,
        `http://127.0.0.1:${origin.port}/upload?n=1`,
      ]);
      assert.equal(first.stdout, "received");
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await apiJson("/api/flows") as {
          flows: { id: string; response: unknown }[];
        };
        return flows.length === 1 && flows[0].response !== null && flows;
      });
      const snippet = (await api(`/api/flows/${flow.id}/export?format=curl`)).stdout;
      assert.match(snippet, /^printf '/);
      const again = await runShell(`${snippet} -sS`);
      assert.equal(again.stdout, "received", again.stderr);
      assert.equal(origin.received.length, 2);
      const [a, b] = origin.received;
      assert.deepEqual(b.body, body);
      assert.deepEqual(b.body, a.body);
      assert.equal(b.url, a.url);
      for (const name of ["Content-Type", "X-Quote"]) {
        assert.deepEqual(
          b.headers.filter(([n]) => n === name),
          a.headers.filter(([n]) => n === name),
        );
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await origin.close();
  }
});

test("bodies download as recorded or decoded, with a file name", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      await viaProxy(
        proxy.address.port,
        `http://127.0.0.1:${origin.port}/gzip/report%20v1.txt?x=1`,
        {
          method: "POST",
          body: "the request",
        },
      );
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows;
      });
      const raw = await req(`/api/flows/${flow.id}/response/body?download=1`);
      assert.equal(raw.headers.get("content-disposition"), 'attachment; filename="report_v1.txt"');
      const gz = new Uint8Array(await raw.arrayBuffer());
      assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b], "as recorded: still gzip");
      const decoded = await req(`/api/flows/${flow.id}/response/body?decode=1`);
      assert.equal(await decoded.text(), "zipped text from the origin");
      const request = await req(`/api/flows/${flow.id}/request/body?download=1`);
      assert.equal(
        request.headers.get("content-disposition"),
        `attachment; filename="${flow.id}-request.bin"`,
      );
      assert.equal(await request.text(), "the request");
    });
  });
});
