// Requests injected as events (replay, the API): no client connection and no loopback socket;
// the flow runs the hooks, goes to the origin and comes back with its response.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Flow, FlowRequest } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import { MessageInjected } from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import type { DriverServices } from "../../src/proxy/driver/services.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

test("an injected request: hooks, the origin, the response recorded on the flow", async () => {
  const net = new MemoryNetwork();
  const seen: string[] = [];
  await net.listen({ host: "origin.test", port: 80 }, async (conn) => {
    let text = "";
    while (!text.includes("\r\n\r\nbody")) text += dec.decode((await conn.read())!);
    seen.push(text);
    await conn.write(enc.encode("HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\nreplied"));
  });
  const hooks: string[] = [];
  let flowDone!: () => void;
  const finished = new Promise<void>((r) => (flowDone = r));
  const services: DriverServices = {
    network: net,
    tls: null,
    hook(name) {
      hooks.push(name);
      if (name === "flow_done") flowDone();
    },
    log() {},
    connectTimeoutMs: 5000,
    closeFlushMs: 1000,
  };
  const client = new Client({ host: "replay", port: 0 }, { host: "replay", port: 0 });
  const options = { ...DEFAULT_LAYER_OPTIONS, idleTimeoutMs: Infinity };
  const driver = new Driver(
    new HttpLayer(new Context(client, options), { kind: "regular" }),
    client,
    null,
    services,
  );
  const done = driver.run();
  const request = new FlowRequest({
    method: "POST",
    scheme: "http",
    host: "origin.test",
    port: 80,
    path: "/again",
    httpVersion: "HTTP/1.1",
    headers: new HeaderList(["Host", "origin.test", "Content-Length", "4"]),
    timestampStart: Date.now(),
  });
  request.body = enc.encode("body");
  const flow = new Flow({ address: "replay", port: 0, tls: null }, request);
  flow.isReplay = true;
  driver.inject(new MessageInjected("request", { flow }));
  await finished;
  driver.finish();
  await done;
  assert.equal(
    seen[0],
    "POST /again HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 4\r\n\r\nbody",
  );
  assert.equal(flow.response?.status, 201);
  assert.equal(dec.decode(flow.response!.body!), "replied");
  assert.deepEqual(hooks, [
    "requestheaders",
    "request",
    "responseheaders",
    "response",
    "flow_done",
  ]);
});
