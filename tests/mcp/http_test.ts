/**
 * /mcp on the web port of a real proxy, driven by the SDK's own client over Streamable HTTP:
 * every tool on real flows, and the same token, Host and Origin checks as the API.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startWeb, type WebServer } from "../../src/api/web.ts";
import { createLogger } from "../../src/log.ts";
import { type ProxyServer, startProxy } from "../../src/proxy/server.ts";
import { curl } from "../e2e/helpers.ts";
import { testCa } from "../fixtures/ca.ts";
import { type Origin, startOrigin } from "../api/helpers.ts";
import { exerciseAllTools, INITIALIZE } from "./helpers.ts";

const TOKEN = "mcp-http-token-0123456789";

describe("MCP over Streamable HTTP at /mcp", () => {
  let proxy: ProxyServer;
  let web: WebServer;
  let origin: Origin;

  before(async () => {
    origin = await startOrigin();
    proxy = await startProxy(
      { listen_port: 0 },
      { ca: await testCa(), log: createLogger("error", () => {}) },
    );
    web = await startWeb(proxy, { port: 0, token: TOKEN });
  });
  after(async () => {
    await web.close();
    await proxy.close();
    await origin.close();
  });

  const connect = async (token: string | null) => {
    const transport = new StreamableHTTPClientTransport(new URL(`${web.url}/mcp`), {
      requestInit: token === null ? {} : { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: "mitm-test", version: "1" });
    await client.connect(transport);
    return client;
  };

  /** A raw POST to /mcp as an MCP client sends one, with `headers` added or changed. */
  const postMcp = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${web.url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers,
      },
      body,
    });
  const withToken = { authorization: `Bearer ${TOKEN}` };

  test("the SDK client initialises, lists the tools and uses each on real flows", {
    timeout: 120_000,
  }, async () => {
    const client = await connect(TOKEN);
    try {
      assert.equal(client.getServerVersion()?.name, "mitm.ts");
      assert.match(client.getInstructions() ?? "", /list_flows/);
      await exerciseAllTools(client, proxy.url, origin);
    } finally {
      await client.close();
    }
  });

  test("without the token, or with a wrong one, the client is refused with 401", async () => {
    const is401 = (e: unknown) => (e as { code?: number }).code === 401;
    await assert.rejects(connect(null), is401);
    await assert.rejects(connect("wrong-token-123"), is401);
    const post = (headers: Record<string, string>) => postMcp(JSON.stringify(INITIALIZE), headers);
    const missing = await post({});
    assert.equal(missing.status, 401);
    assert.match((await missing.json()).error, /missing API token/);
    const wrong = await post({ authorization: "Bearer wrong-token-123" });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error, "wrong API token");
    const right = await post({ authorization: `Bearer ${TOKEN}` });
    assert.equal(right.status, 200);
    assert.equal((await right.json()).result.serverInfo.name, "mitm.ts");
  });

  test("another Origin, a foreign Host, or a form's Content-Type is refused", async () => {
    const post = (headers: Record<string, string>) =>
      postMcp(JSON.stringify(INITIALIZE), { ...withToken, ...headers });
    const origin = await post({ origin: "http://evil.example" });
    assert.equal(origin.status, 403);
    assert.match((await origin.json()).error, /requests from http:\/\/evil\.example/);
    // A DNS-rebinding page reaches us under its own name (fetch cannot set Host; curl can).
    const rebound = await curl([
      "--noproxy",
      "*",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      `Host: evil.example:${web.address.port}`,
      "-H",
      `Authorization: Bearer ${TOKEN}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify(INITIALIZE),
      `${web.url}/mcp`,
    ]);
    assert.equal(rebound.stdout, "403", rebound.stderr);
    const form = await post({ "content-type": "text/plain" });
    assert.equal(form.status, 415);
    await form.body?.cancel();
    const sameOrigin = await post({ origin: web.url });
    assert.equal(sameOrigin.status, 200);
    await sameOrigin.body?.cancel();
  });

  test("a malformed body is a 400 with a reason, and the endpoint goes on", async () => {
    const send = (body: string) => postMcp(body, withToken);
    const broken = await send("{not json");
    assert.equal(broken.status, 400);
    assert.match((await broken.json()).error.message, /parse error/i);
    const wrongShape = await send(JSON.stringify({ hello: "world" }));
    assert.equal(wrongShape.status, 400);
    await wrongShape.body?.cancel();
    const fine = await send(JSON.stringify(INITIALIZE));
    assert.equal(fine.status, 200);
    assert.equal((await fine.json()).result.serverInfo.name, "mitm.ts");
  });

  test("GET and DELETE are 405: the endpoint is stateless and has no event stream", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${web.url}/mcp`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" },
      });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST");
      await res.body?.cancel();
    }
  });
});
