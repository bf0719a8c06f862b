/** Replaying a WebSocket flow opens the socket again and resends the client's messages in order. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeOriginCert, tempDir } from "../e2e/https_helpers.ts";
import { pattern, RawWsClient, testCaPem, wsOrigin } from "../e2e/websocket_helpers.ts";
import { waitFor, withApi } from "./helpers.ts";
import { jsonArgs, withWeb } from "./web_helpers.ts";

type FlowJson = {
  id: string;
  isReplay: boolean;
  response: { status: number } | null;
  websocket?: {
    messages: { fromClient: boolean; type: string; content: { text?: string; base64?: string } }[];
  };
};

/** Records one WebSocket conversation through the proxy: text, binary, text, then a close. */
async function talk(proxyPort: number, originPort: number, caPem?: string): Promise<void> {
  const client = await RawWsClient.open({
    proxyPort,
    originPort,
    path: "/chat?room=1",
    tls: caPem === undefined ? undefined : { caPem },
  });
  client.text("first");
  await client.next();
  client.binary(pattern(300));
  await client.next();
  client.text("third");
  await client.next();
  client.close(1000, "bye");
  await client.closed();
}

test("a WebSocket replay re-opens the socket through the proxy and resends the client's messages", async () => {
  const origin = await wsOrigin();
  try {
    await withApi({}, async ({ proxy, req }) => {
      await talk(proxy.address.port, origin.port);
      const first: FlowJson = await waitFor("the WebSocket flow to end", async () => {
        const { flows } = await (await req("/api/flows")).json();
        if (flows.length !== 1) return null;
        const flow = await (await req(`/api/flows/${flows[0].id}`)).json();
        return flow.websocket?.messages.some((m: { type: string }) => m.type === "close") && flow;
      });
      assert.equal(origin.received.length, 3);

      const r = await req(`/api/flows/${first.id}/replay`, { method: "POST" });
      assert.equal(r.status, 201);
      const fresh = await r.json();
      assert.equal(fresh.isReplay, true);
      await waitFor("the origin to get the messages again", () => origin.received.length === 6);
      assert.deepEqual(
        origin.received.slice(3).map((m) => [m.binary, m.data.toString("base64")]),
        origin.received.slice(0, 3).map((m) => [m.binary, m.data.toString("base64")]),
      );
      assert.equal(origin.handshakes.length, 2);
      assert.equal(origin.closes.at(-1)?.code, 1000);

      // Recorded like any WebSocket: the new flow has the handshake's 101 and both directions.
      const replayed: FlowJson = await waitFor("the replay's messages", async () => {
        const flow = await (await req(`/api/flows/${fresh.id}`)).json();
        return (flow.websocket?.messages.length ?? 0) >= 6 && flow;
      });
      assert.equal(replayed.response?.status, 101);
      const texts = (fromClient: boolean) =>
        replayed.websocket!.messages.filter((m) => m.type === "text" && m.fromClient === fromClient)
          .map((m) => m.content.text);
      assert.deepEqual(texts(true), ["first", "third"]);
      assert.deepEqual(texts(false), ["echo: first", "echo: third"]);
    });
  } finally {
    await origin.close();
  }
});

test("end to end: curl asks the API to replay a WebSocket flow", async () => {
  const origin = await wsOrigin();
  try {
    await withWeb({}, async ({ proxy, api, apiJson }) => {
      await talk(proxy.address.port, origin.port);
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await apiJson("/api/flows") as {
          flows: { id: string; response: unknown }[];
        };
        return flows.length === 1 && flows[0].response !== null && flows;
      });
      const out = await api(`/api/flows/${flow.id}/replay`, jsonArgs("POST", {}));
      assert.equal(JSON.parse(out.stdout).isReplay, true, out.stdout);
      await waitFor("the messages again", () => origin.received.length === 6);
      assert.equal(origin.received[3].data.toString(), "first");
    });
  } finally {
    await origin.close();
  }
});

test("a wss:// WebSocket replays over TLS through the proxy", async () => {
  const tmp = tempDir("mitm-wsreplay-");
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await wsOrigin({ cert });
  try {
    await withApi({ ssl_verify_upstream_trusted_ca: cert.caFile }, async ({ proxy, req }) => {
      await talk(proxy.address.port, origin.port, await testCaPem());
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows;
      });
      assert.equal(flow.request.scheme, "https");
      const r = await req(`/api/flows/${flow.id}/replay`, { method: "POST" });
      assert.equal(r.status, 201, await r.clone().text());
      await waitFor("the messages again over TLS", () => origin.received.length === 6);
      assert.equal(origin.received[5].data.toString(), "third");
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
