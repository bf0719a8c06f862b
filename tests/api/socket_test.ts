/** The API over a real socket, on the runtime running the tests, driven with curl. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { startWeb } from "../../src/api/web.ts";
import { curl, startProxyProcess } from "../e2e/helpers.ts";
import { withProxy } from "../e2e/https_helpers.ts";
import { withOrigin } from "./helpers.ts";

test("served on a socket: token, cookie login, Host check, SSE with curl", async () => {
  await withOrigin(async (origin) => {
    await withProxy({}, async (proxy) => {
      const web = await startWeb(proxy, { port: 0, token: "socket-token-123" });
      try {
        assert.match(web.uiUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=socket-token-123$/);
        const api = `${web.url}/api/flows`;
        const denied = await curl(["-w", "%{http_code}", api]);
        assert.match(denied.stdout, /missing API token.*401$/);
        const rebinding = await curl(["-w", "%{http_code}", "-H", "Host: evil.test", api]);
        assert.match(rebinding.stdout, /403$/);

        // Live events while traffic flows, read with curl -N.
        const sse = spawn("curl", [
          "-sN",
          "-H",
          `Authorization: Bearer ${web.token}`,
          `${web.url}/api/events`,
        ]);
        let events = "";
        sse.stdout.on("data", (d) => (events += d));
        await waitText(() => events, /event: hello/);
        const through = await curl([
          "--noproxy",
          "",
          "-x",
          proxy.url,
          `http://127.0.0.1:${origin.port}/over-socket`,
        ]);
        assert.match(through.stdout, /origin: GET \/over-socket/);
        await waitText(() => events, /"path":"\/over-socket".*"status":200/);
        sse.kill();

        // The browser way: ?token= sets the cookie, which then opens /api.
        const jar = `/tmp/mitm-api-cookies-${process.pid}-${Date.now()}`;
        const login = await curl(["-c", jar, "-o", "/dev/null", "-w", "%{http_code}", web.uiUrl]);
        assert.equal(login.stdout, "200");
        const page = await curl(["-b", jar, `${web.url}/`]);
        assert.match(page.stdout, /<title>mitm\.ts<\/title>/);
        const listed = await curl(["-b", jar, api]);
        assert.match(listed.stdout, /over-socket/);
        await curl(["-b", jar, "-X", "POST", `${web.url}/api/clear`]);
        assert.match((await curl(["-b", jar, api])).stdout, /"flows":\[\]/);
        await import("node:fs").then((fs) => fs.rmSync(jar, { force: true }));
      } finally {
        await web.close();
      }
    });
  });
});

test("the command line prints the UI address (with a random token only); --no-web turns it off", {
  timeout: 60_000,
}, async () => {
  const proc = await startProxyProcess(["--web-port", "0", "--api-token", "cli-token-1234"]);
  try {
    // A token the user chose is not echoed into logs.
    await waitText(proc.output, /Web UI: {2}http:\/\/127\.0\.0\.1:\d+\n/);
    assert.doesNotMatch(proc.output(), /cli-token-1234/);
    const ui = /Web UI: {2}(http:\/\/[^/\s]+)/.exec(proc.output())![1];
    const r = await curl(["-H", "Authorization: Bearer cli-token-1234", `${ui}/api/options`]);
    assert.match(r.stdout, /"flow_store_max_bytes":2147483648/);
  } finally {
    assert.equal(await proc.stop(), 0);
  }
  const random = await startProxyProcess(["--web-port", "0"]);
  try {
    // A random token is printed: it is the only way to learn it.
    await waitText(random.output, /Web UI: {2}http:\/\/127\.0\.0\.1:\d+\/\?token=\S{8,}/);
  } finally {
    await random.stop();
  }
  const off = await startProxyProcess(["--no-web"]);
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(off.output(), /Web UI/);
  } finally {
    await off.stop();
  }
  const env = { MITM_API_TOKEN: "short" };
  const bad = await startProxyProcess(["--web-port", "0"], { env }).catch((e) => e);
  assert.match(String(bad), /API token must be at least 8 printable characters/);
});

async function waitText(get: () => string, re: RegExp, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(get())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}; got:\n${get()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
