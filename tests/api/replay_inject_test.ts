/**
 * Replay and composed requests go into the proxy as events, not through a socket to the proxy's
 * own port, and the listener's hooks, upstream proxy and TLS verification apply as for a client's
 * request.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createApi } from "../../src/api/app.ts";
import { Control } from "../../src/api/control.ts";
import type { Options } from "../../src/options.ts";
import { startProxy } from "../../src/proxy/server.ts";
import { testCa } from "../fixtures/ca.ts";
import { httpsOrigin, makeOriginCert, tempDir } from "../e2e/https_helpers.ts";
import { HOST, PORT, TOKEN, viaProxy, waitFor, withOrigin } from "./helpers.ts";
import type { Addon } from "../../src/addons/types.ts";

type Summary = { id: string; isReplay: boolean; response: { status: number } | null };

async function withLayers(
  options: Partial<Options>,
  addons: Addon[],
  fn: (req: (path: string, init?: RequestInit) => Promise<Response>, port: number) => Promise<void>,
) {
  const proxy = await startProxy(
    { listen_port: 0, ...options },
    { ca: await testCa(), addons },
  );
  const control = await Control.attach(proxy);
  const app = createApi(control, { token: TOKEN, port: PORT, hosts: [] });
  const req = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("host", HOST);
    headers.set("authorization", `Bearer ${TOKEN}`);
    return Promise.resolve(app.request(`http://${HOST}${path}`, { ...init, headers }));
  };
  try {
    await fn(req, proxy.address.port);
  } finally {
    await control.close();
    await proxy.close();
  }
}

const flowById = (req: (p: string) => Promise<Response>, id: string) => async () => {
  const w = await (await req(`/api/flows/${id}`)).json();
  return (w.response || w.error) && w;
};

test(
  "a replay goes in as an event, through the request hooks, and records a new flow",
  {},
  async () => {
    const tagger: Addon = {
      request(flow) {
        flow.request.headers.set("X-Hooked", flow.isReplay ? "replay" : "live");
      },
    };
    await withOrigin(async (origin) => {
      await withLayers({}, [tagger], async (req, port) => {
        const url = `http://127.0.0.1:${origin.port}/once`;
        await viaProxy(port, url, { method: "POST", body: "kept" });
        const [first] = await waitFor("the flow", async () => {
          const { flows } = await (await req("/api/flows")).json();
          return flows.length === 1 && flows[0].response && flows as Summary[];
        });
        const r = await req(`/api/flows/${first.id}/replay`, { method: "POST" });
        assert.equal(r.status, 201, await r.clone().text());
        const fresh: Summary = await r.json();
        assert.equal(fresh.isReplay, true);
        const done = await waitFor("the replay's response", flowById(req, fresh.id), 10_000);
        assert.equal(done.response.status, 200);
        assert.equal(origin.requests.length, 2);
        assert.equal(origin.requests[1].line, "POST /once");
        assert.equal(origin.requests[1].body, "kept");
        assert.equal(origin.requests[0].headers["x-hooked"], "live");
        assert.equal(origin.requests[1].headers["x-hooked"], "replay");
      });
    });
  },
);

test("a composed request goes through the upstream proxy of upstream mode", {}, async () => {
  const seen: string[] = [];
  const upstream = await startProxy({ listen_port: 0 }, {
    ca: await testCa(),
    addons: [{ requestheaders: (flow) => void seen.push(flow.request.url) }],
  });
  try {
    await withOrigin(async (origin) => {
      const mode = [`upstream:http://127.0.0.1:${upstream.address.port}`];
      await withLayers({ mode }, [], async (req) => {
        const url = `http://127.0.0.1:${origin.port}/composed`;
        const r = await req("/api/requests", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ method: "GET", url }),
        });
        assert.equal(r.status, 201, await r.clone().text());
        const fresh: Summary = await r.json();
        const done = await waitFor("the response", flowById(req, fresh.id), 10_000);
        assert.equal(done.response.status, 200);
        assert.deepEqual(seen, [url], "the upstream proxy carried it");
        assert.equal(origin.requests.length, 1);
      });
    });
  } finally {
    await upstream.close();
  }
});

test(
  "an injected https request checks the origin's certificate as the options say",
  {},
  async () => {
    const tmp = tempDir("mitm-inject-");
    const cert = await makeOriginCert(tmp.dir, ["localhost"]);
    const origin = await httpsOrigin(cert);
    const compose = (req: (p: string, i?: RequestInit) => Promise<Response>) =>
      req("/api/requests", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: `https://localhost:${origin.port}/tls` }),
      });
    try {
      await withLayers({}, [], async (req) => {
        const fresh: Summary = await (await compose(req)).json();
        const done = await waitFor("the failure", flowById(req, fresh.id), 10_000);
        assert.equal(done.response, null);
        assert.match(done.error.message, /could not connect to localhost:\d+: .*certificate/i);
      });
      await withLayers({ ssl_verify_upstream_trusted_ca: cert.caFile }, [], async (req) => {
        const fresh: Summary = await (await compose(req)).json();
        const done = await waitFor("the response", flowById(req, fresh.id), 10_000);
        assert.equal(done.response.status, 200);
      });
      assert.deepEqual(origin.requests, ["GET /tls"]);
    } finally {
      await origin.close();
      tmp.remove();
    }
  },
);
