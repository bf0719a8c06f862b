/**
 * Addon hooks in-process, with real traffic (curl through the proxy to origins on 127.0.0.1):
 * the order they run in, async hooks awaited, a throwing addon, a slow hook delaying only its own
 * flow, respond() and kill().
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Addon, Flow } from "../../mod.ts";
import {
  curlVia,
  echoOrigin,
  eventually,
  pairs,
  parseCurlI,
  sleep,
  withAddons,
} from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir, testCaFile } from "../e2e/https_helpers.ts";

/** An addon that notes every hook call as "hook detail". */
function recorderAddon(events: string[]): Addon {
  const path = (f: Flow) => f.request.path;
  return {
    name: "order",
    client_connected(c) {
      events.push(`client_connected ${c.address}`);
    },
    client_disconnected(c) {
      events.push(`client_disconnected ${c.address}`);
    },
    server_connected(s, flow) {
      events.push(`server_connected ${s.port} ${s.tls ? "tls" : "tcp"} ${path(flow)}`);
    },
    tls_clienthello(data) {
      events.push(`tls_clienthello ${data.sni} ${data.host}:${data.port}`);
    },
    requestheaders(f) {
      events.push(`requestheaders ${path(f)}`);
    },
    request(f) {
      events.push(`request ${path(f)}`);
    },
    responseheaders(f) {
      events.push(`responseheaders ${path(f)} ${f.response?.status}`);
    },
    response(f) {
      events.push(`response ${path(f)} ${f.response?.status}`);
    },
    error(f) {
      events.push(`error ${path(f)}`);
    },
    flow_done(f) {
      events.push(`flow_done ${path(f)} ${f.response?.status}`);
    },
  };
}

const FLOW_HOOKS = ["requestheaders", "request", "responseheaders", "response", "flow_done"];

test("hooks run in order for each flow; client and server hooks once per connection", async () => {
  const origin = await echoOrigin();
  const events: string[] = [];
  try {
    await withAddons([recorderAddon(events)], async ({ url }) => {
      // Two URLs in one curl run: one client connection, and one pooled origin connection.
      const base = `http://127.0.0.1:${origin.port}`;
      const r = await curlVia(url, [`${base}/a`, `${base}/b`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        await eventually(() => events.some((e) => e.startsWith("client_disconnected"))),
        events.join("\n"),
      );
    });
    const base = origin.port;
    for (const p of ["/a", "/b"]) {
      const mine = events.filter((e) => e.split(" ")[1] === p && !e.startsWith("server_"))
        .map((e) => e.split(" ")[0]);
      assert.deepEqual(mine, FLOW_HOOKS, `${p}: ${events.join(", ")}`);
    }
    assert.equal(events[0], "client_connected 127.0.0.1");
    assert.equal(events.at(-1), "client_disconnected 127.0.0.1");
    // The origin connection was opened for /a, after its request hook, before its response.
    const connected = events.filter((e) => e.startsWith("server_connected"));
    assert.deepEqual(connected, [`server_connected ${base} tcp /a`]);
    assert.equal(origin.connections(), 1);
    const i = events.indexOf(connected[0]);
    assert.ok(events.indexOf("request /a") < i && i < events.indexOf("responseheaders /a 200"));
    // /b's flow starts after /a's is done (one connection, one request at a time).
    assert.ok(events.indexOf("flow_done /a 200") < events.indexOf("requestheaders /b"));
    assert.ok(!events.some((e) => e.startsWith("tls_clienthello") || e.startsWith("error")));
  } finally {
    await origin.close();
  }
});

test("https through interception: tls_clienthello first, then the flow hooks; server_connected with TLS", async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const events: string[] = [];
  try {
    await withAddons([recorderAddon(events)], async ({ url }) => {
      const base = `https://localhost:${origin.port}`;
      const r = await curlVia(url, ["--cacert", await testCaFile(), `${base}/s1`, `${base}/s2`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /hello from the origin: GET \/s1/);
      assert.ok(
        await eventually(() => events.some((e) => e.startsWith("client_disconnected"))),
        events.join("\n"),
      );
    }, { ssl_verify_upstream_trusted_ca: cert.caFile });
    assert.deepEqual(events.slice(0, 2), [
      "client_connected 127.0.0.1",
      `tls_clienthello localhost localhost:${origin.port}`,
    ]);
    for (const p of ["/s1", "/s2"]) {
      const mine = events.filter((e) => e.split(" ")[1] === p && !e.startsWith("server_"))
        .map((e) => e.split(" ")[0]);
      assert.deepEqual(mine, FLOW_HOOKS, `${p}: ${events.join(", ")}`);
    }
    // One TLS connection to the origin, announced once, to the first flow that uses it.
    assert.equal(origin.connections(), 1);
    assert.deepEqual(events.filter((e) => e.startsWith("server_connected")), [
      `server_connected ${origin.port} tls /s1`,
    ]);
    assert.equal(events.at(-1), "client_disconnected 127.0.0.1");
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("async hooks are awaited one after another, and what they change is used", async () => {
  const origin = await echoOrigin();
  const events: string[] = [];
  const slow = (name: string, change?: (f: Flow) => void) => async (f: Flow) => {
    events.push(`${name} start`);
    await sleep(60);
    change?.(f);
    events.push(`${name} end`);
  };
  const addon: Addon = {
    name: "async",
    requestheaders: slow("requestheaders", (f) => f.request.headers.set("X-Late-RH", "1")),
    request: slow("request", (f) => f.request.headers.set("X-Late-Req", "2")),
    responseheaders: slow("responseheaders", (f) => f.response!.headers.set("X-Late-RespH", "3")),
    response: slow("response", (f) => f.response!.headers.set("X-Late-Resp", "4")),
  };
  // A second addon sees what the first one's async hook did.
  const second: Addon = {
    name: "second",
    request(f) {
      events.push(`second sees ${f.request.headers.get("x-late-req")}`);
    },
  };
  try {
    await withAddons([addon, second], async ({ url }) => {
      const r = await curlVia(url, ["-i", `http://127.0.0.1:${origin.port}/async`]);
      assert.equal(r.code, 0, r.stderr);
      const res = parseCurlI(r.stdout);
      assert.equal(res.status, 200);
      const names = res.headers.map(([n]) => n);
      assert.ok(names.includes("X-Late-RespH") && names.includes("X-Late-Resp"), r.stdout);
    });
    assert.deepEqual(events, [
      "requestheaders start",
      "requestheaders end",
      "request start",
      "request end",
      "second sees 2",
      "responseheaders start",
      "responseheaders end",
      "response start",
      "response end",
    ]);
    assert.equal(origin.received[0].headers["x-late-rh"], "1");
    assert.equal(origin.received[0].headers["x-late-req"], "2");
  } finally {
    await origin.close();
  }
});

test("an addon that throws is logged with its stack; the flow goes on unmodified", async () => {
  const origin = await echoOrigin();
  const thrower: Addon = {
    name: "thrower",
    requestheaders() {
      throw new Error("boom in requestheaders");
    },
    async request() {
      await sleep(1);
      throw new TypeError("boom in request");
    },
    response() {
      throw new Error("boom in response");
    },
  };
  let laterSaw = 0;
  const later: Addon = {
    name: "later",
    request() {
      laterSaw++;
    },
  };
  try {
    await withAddons([thrower, later], async ({ url, log }) => {
      const r = await curlVia(url, ["-i", `http://127.0.0.1:${origin.port}/t?q=1`]);
      assert.equal(r.code, 0, r.stderr);
      const res = parseCurlI(r.stdout);
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).url, "/t?q=1");
      assert.equal(laterSaw, 1, "the next addon's hook still ran");
      const text = log.join("\n");
      for (
        const [hook, message] of [
          ["requestheaders", "Error: boom in requestheaders"],
          ["request", "TypeError: boom in request"],
          ["response", "Error: boom in response"],
        ]
      ) {
        const line = log.find((l) => l.startsWith(`addon thrower, hook ${hook} failed:`));
        assert.ok(line, `no log line for ${hook}:\n${text}`);
        assert.ok(line.includes(message), line);
        assert.match(line, /\n\s+at .*hooks_test\.ts/, "the stack points at the addon");
      }
      // The proxy keeps serving.
      const again = await curlVia(url, [`http://127.0.0.1:${origin.port}/again`]);
      assert.equal(JSON.parse(again.stdout).url, "/again");
    });
  } finally {
    await origin.close();
  }
});

test("a slow hook delays only its own flow; other clients are served meanwhile", async () => {
  const origin = await echoOrigin();
  const addon: Addon = {
    name: "slow",
    async request(f) {
      if (f.request.path === "/slow") await sleep(2000);
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const started = Date.now();
      let slowDoneAt = 0;
      const slow = curlVia(url, [`${base}/slow`]).then((r) => {
        slowDoneAt = Date.now();
        return r;
      });
      await sleep(100);
      for (let i = 0; i < 5; i++) {
        const r = await curlVia(url, [`${base}/fast${i}`]);
        assert.equal(JSON.parse(r.stdout).url, `/fast${i}`, r.stderr);
      }
      const fastDoneAt = Date.now();
      assert.equal(slowDoneAt, 0, "the slow flow finished before the fast ones");
      assert.ok(fastDoneAt - started < 1900, `fast requests took ${fastDoneAt - started} ms`);
      const r = await slow;
      assert.equal(JSON.parse(r.stdout).url, "/slow", r.stderr);
      assert.ok(slowDoneAt - started >= 1950, `slow flow took ${slowDoneAt - started} ms`);
      // The origin saw the fast requests first.
      assert.deepEqual(origin.received.map((x) => x.url), [
        "/fast0",
        "/fast1",
        "/fast2",
        "/fast3",
        "/fast4",
        "/slow",
      ]);
    });
  } finally {
    await origin.close();
  }
});

test("flow.respond() in requestheaders or request answers without contacting the origin", async () => {
  const origin = await echoOrigin();
  const done: Flow[] = [];
  const addon: Addon = {
    name: "responder",
    requestheaders(f) {
      if (f.request.path.startsWith("/rh")) {
        f.respond(418, "answered in requestheaders\n", { "X-Answered": "requestheaders" });
      }
    },
    request(f) {
      if (f.request.path.startsWith("/req")) {
        // The request hook has the whole body.
        f.respond(200, `answered in request: ${f.request.text()}`, [
          ["X-Answered", "request"],
          ["Content-Type", "text/plain"],
        ]);
      }
    },
    flow_done(f) {
      done.push(f);
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const a = parseCurlI((await curlVia(url, ["-i", `${base}/rh`])).stdout);
      assert.equal(a.status, 418);
      assert.equal(a.body, "answered in requestheaders\n");
      assert.deepEqual(a.headers.find(([n]) => n === "X-Answered"), [
        "X-Answered",
        "requestheaders",
      ]);
      assert.equal(a.headers.find(([n]) => n === "Content-Length")?.[1], "27");

      // With a request body not read yet: answered, and the connection closes after it.
      const b = await curlVia(url, ["-i", "--data-binary", "x".repeat(5000), `${base}/rh-post`]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(parseCurlI(b.stdout).status, 418);

      const c = parseCurlI(
        (await curlVia(url, ["-i", "--data-binary", "the body", `${base}/req`])).stdout,
      );
      assert.equal(c.status, 200);
      assert.equal(c.body, "answered in request: the body");
      assert.equal(c.headers.find(([n]) => n === "Content-Length")?.[1], "29");

      // The same connection goes on after an answered request without a body.
      const d = await curlVia(url, [`${base}/rh1`, `${base}/rh2`, `${base}/passes`]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /^answered in requestheaders\nanswered in requestheaders\n\{/);
      assert.ok(await eventually(() => done.length === 6));
    });
    assert.equal(origin.received.map((r) => r.url).join(), "/passes");
    assert.equal(origin.connections(), 1);
    const answered = done.filter((f) => f.request.path !== "/passes");
    for (const f of answered) {
      assert.equal(f.server, null, `${f.request.path}: no origin connection`);
      assert.equal(f.responded, true);
      assert.equal(f.error, null);
    }
  } finally {
    await origin.close();
  }
});

test("flow.kill() drops the client connection; the proxy keeps serving", async () => {
  const origin = await echoOrigin();
  const done: Flow[] = [];
  const addon: Addon = {
    name: "killer",
    requestheaders(f) {
      if (f.request.path === "/kill-rh") f.kill();
    },
    request(f) {
      if (f.request.path === "/kill-req") f.kill();
    },
    responseheaders(f) {
      if (f.request.path === "/kill-resph") f.kill();
    },
    response(f) {
      if (f.request.path === "/kill-resp") f.kill();
    },
    flow_done(f) {
      done.push(f);
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      for (const p of ["/kill-rh", "/kill-req", "/kill-resph", "/kill-resp"]) {
        const r = await curlVia(url, ["-i", `${base}${p}`]);
        assert.notEqual(r.code, 0, `${p}: curl succeeded: ${r.stdout}`);
        assert.equal(r.stdout, "", `${p}: nothing of a response arrives`);
        assert.match(r.stderr, /Empty reply from server|Connection reset|Recv failure/, p);
        const ok = await curlVia(url, [`${base}/after${p}`]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(JSON.parse(ok.stdout).url, `/after${p}`);
      }
      assert.ok(await eventually(() => done.length === 8));
    });
    // Killed before the origin was asked: it never saw those.
    const seen = origin.received.map((r) => r.url);
    assert.ok(!seen.includes("/kill-rh") && !seen.includes("/kill-req"), seen.join());
    assert.ok(seen.includes("/kill-resph") && seen.includes("/kill-resp"), seen.join());
    for (const f of done.filter((f) => f.request.path.startsWith("/kill"))) {
      assert.equal(f.killed, true);
      assert.equal(f.error?.message, "connection killed by an addon", f.request.path);
    }
  } finally {
    await origin.close();
  }
});

test("tls_clienthello can pass a connection through: no flow hooks, the origin's own certificate", async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const events: string[] = [];
  const addon: Addon = {
    ...recorderAddon(events),
    tls_clienthello(data) {
      events.push(`tls_clienthello ${data.sni} ignore=${data.ignoreConnection}`);
      data.ignoreConnection = true;
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      // The client trusts only the origin's CA: it works only if the proxy stays out of TLS.
      const r = await curlVia(url, ["--cacert", cert.caFile, `https://localhost:${origin.port}/p`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /hello from the origin: GET \/p/);
      assert.ok(await eventually(() => events.some((e) => e.startsWith("client_disconnected"))));
    }, { ssl_verify_upstream_trusted_ca: cert.caFile });
    assert.deepEqual(events, [
      "client_connected 127.0.0.1",
      "tls_clienthello localhost ignore=false",
      "client_disconnected 127.0.0.1",
    ]);
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("a failed flow runs the error hook, then flow_done with the error", async () => {
  const events: string[] = [];
  const done: Flow[] = [];
  const addon: Addon = {
    ...recorderAddon(events),
    flow_done(f) {
      events.push(`flow_done ${f.request.path} ${f.response?.status}`);
      done.push(f);
    },
  };
  const probe = await echoOrigin();
  const port = probe.port;
  await probe.close(); // nothing listens there now
  await withAddons([addon], async ({ url }) => {
    const r = await curlVia(url, ["-i", `http://127.0.0.1:${port}/refused`]);
    assert.match(r.stdout, /^HTTP\/1\.1 502 /);
    assert.ok(await eventually(() => done.length === 1));
  });
  const mine = events.filter((e) => !e.startsWith("client_"));
  assert.deepEqual(mine, [
    "requestheaders /refused",
    "request /refused",
    "error /refused",
    "flow_done /refused undefined",
  ]);
  assert.match(done[0].error!.message, new RegExp(`could not connect to 127\\.0\\.0\\.1:${port}`));
  assert.equal(done[0].response, null);
});

test("changes a throwing addon made before it threw are undone", async () => {
  const origin = await echoOrigin();
  const halfway: Addon = {
    name: "halfway",
    request(flow) {
      flow.request.headers.set("X-Half", "done");
      flow.request.path = "/elsewhere";
      flow.request.setText("changed body");
      throw new Error("gave up halfway");
    },
    response(flow) {
      flow.response!.status = 500;
      flow.response!.headers.delete("content-type");
      throw new Error("gave up in response");
    },
  };
  try {
    await withAddons([halfway], async ({ url }) => {
      const r = await curlVia(url, [
        "-i",
        "-d",
        "original",
        `http://127.0.0.1:${origin.port}/here`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const res = parseCurlI(r.stdout);
      assert.equal(res.status, 200, "the status change was undone");
      const seen = JSON.parse(res.body);
      assert.equal(seen.url, "/here", "the path change was undone");
      assert.equal(seen.body, "original", "the body change was undone");
      assert.ok(!pairs(seen.headers).some(([n]) => n === "X-Half"), "the header was removed again");
      assert.ok(res.headers.some(([n]) => /^content-type$/i.test(n)), "content-type is back");
    });
  } finally {
    await origin.close();
  }
});

test("an addon changing only the status gets the matching reason phrase", async () => {
  const origin = await echoOrigin();
  try {
    await withAddons(
      [{ response: (flow) => void (flow.response!.status = 404) }],
      async ({ url }) => {
        const r = await curlVia(url, ["-i", `http://127.0.0.1:${origin.port}/`]);
        assert.match(r.stdout, /^HTTP\/1\.1 404 Not Found\r\n/);
      },
    );
  } finally {
    await origin.close();
  }
});
