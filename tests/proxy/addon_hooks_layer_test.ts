// What addons see and change through the HTTP layer (as mitm.ts always showed it): server_connected
// once per origin connection, kill(), a changed status's reason, the `request` hook of a streamed
// upload (its view, a body it sets), the error hook's place, and a request sent elsewhere.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CallHook,
  CloseConnection,
  OpenConnection,
  SendData,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { DataReceived, Start } from "../../src/proxy/core/events.ts";
import type { Server } from "../../src/proxy/core/connection.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import type { ServerConnectedData } from "../../src/proxy/layers/http/stream.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const GET = (path: string) => b(`GET http://a.test${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
const OK = b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");

describe("addon hooks in the HTTP layer", () => {
  test("server_connected: after request, before the request is sent, once per connection", () => {
    const ctx = context({ announceServers: true });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const announced = any<ServerConnectedData>("announced");
    const first = any<Flow>("first");
    const second = any<Flow>("second");
    new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/1")))
      .expect(new CallHook("requestheaders", first))
      .send(reply())
      .expect(new CallHook("request", first))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new CallHook("server_connected", announced))
      .send(reply())
      .expect(new SendData(server, b("GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, OK))
      .expect(new CallHook("responseheaders", first))
      .send(reply())
      .expect(new CallHook("response", first))
      .send(reply())
      .expect(new SendData(ctx.client, OK))
      .expect(new CallHook("flow_done", first, true))
      // The second flow reuses the connection: no second announcement.
      .send(new DataReceived(ctx.client, GET("/2")))
      .expect(new CallHook("requestheaders", second))
      .send(reply())
      .expect(new CallHook("request", second))
      .send(reply())
      .expect(new SendData(server, b("GET /2 HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .check();
    assert.equal(announced.value.flow, first.value);
    assert.deepEqual(announced.value.server, {
      address: "a.test",
      port: 80,
      tls: null,
      timestampStart: 1_000_000,
    });
  });

  test("server_connected is not called when no addon listens (announceServers off)", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/")))
      .expect(new OpenConnection(any("server")))
      .send(reply())
      .expect(new SendData(any("server"), b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .check();
    assert.ok(!pb.commands.some((c) => c instanceof CallHook && c.name === "server_connected"));
  });

  test("kill() in responseheaders: nothing reaches the client, the flow says it was killed", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const flow = any<Flow>("flow");
    const server = any<Server>("server");
    new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/")))
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, OK))
      .expect(new CallHook("responseheaders", flow))
      .send(reply(null, (f) => (f as Flow).kill()))
      .expect(new CloseConnection(server))
      .expect(new CloseConnection(ctx.client))
      .expect(new CallHook("flow_done", flow, true))
      .check();
    assert.equal(flow.value.killed, true);
    assert.equal(flow.value.error?.message, "connection killed by an addon");
  });

  test("a status changed by the response hook gets its own reason phrase", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/")))
      .expect(new OpenConnection(any("server")))
      .send(reply())
      .expect(new SendData(any("server"), b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .check();
    // Answer the hooks by hand now: the response hook changes the status only.
    const reasons = new Playbook(layer)
      .send(() => new DataReceived(serverOf(layer), OK))
      .expect(new CallHook("responseheaders", any("flow")))
      .send(reply())
      .expect(new CallHook("response", any("flow")))
      .send(reply(null, (f) => void ((f as Flow).response!.status = 404)))
      .expect(new SendData(ctx.client, b("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nhi")))
      .expect(new CallHook("flow_done", any("flow"), true));
    reasons.check();
  });

  test("a reason the hook set itself is kept", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/")))
      .expect(new OpenConnection(any("server")))
      .send(reply())
      .expect(new SendData(any("server"), b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .check();
    new Playbook(layer)
      .send(() => new DataReceived(serverOf(layer), OK))
      .expect(new CallHook("responseheaders", any("flow")))
      .send(reply())
      .expect(new CallHook("response", any("flow")))
      .send(reply(null, (f) => {
        (f as Flow).response!.status = 299;
        (f as Flow).response!.reason = "Fine Anyway";
      }))
      .expect(
        new SendData(ctx.client, b("HTTP/1.1 299 Fine Anyway\r\nContent-Length: 2\r\n\r\nhi")),
      )
      .expect(new CallHook("flow_done", any("flow"), true))
      .check();
  });

  test("an upload over stream_large_bodies: the request hook runs first and sees no body", () => {
    const ctx = context({ streamLargeBodies: 4 });
    const layer = new HttpLayer(ctx, REGULAR);
    const flow = any<Flow>("flow");
    const server = any<Server>("server");
    let seen: unknown = null;
    new Playbook(layer)
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\n0123"),
        ),
      )
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply(null, (f) => {
        const r = (f as Flow).request;
        seen = { body: r.body, streamed: r.streamed, bodySize: r.bodySize };
      }))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(
          server,
          b("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\n0123"),
        ),
      )
      .send(new DataReceived(ctx.client, b("456789")))
      .expect(new SendData(server, b("456789")))
      .check();
    // The head declared more than the limit: nothing of the body was read when the hook ran.
    assert.deepEqual(seen, { body: null, streamed: true, bodySize: 0 });
  });

  test("a chunked upload outgrowing the limit: the hook runs then, with what was read", () => {
    const ctx = context({ streamLargeBodies: 4 });
    const layer = new HttpLayer(ctx, REGULAR);
    let seen: unknown = null;
    const head =
      "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n";
    new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, b(head + "3\r\nabc\r\n")))
      .expect(new CallHook("requestheaders", any("flow")))
      .send(reply())
      .send(new DataReceived(ctx.client, b("3\r\ndef\r\n")))
      .expect(new CallHook("request", any("flow")))
      .send(reply(null, (f) => {
        const r = (f as Flow).request;
        seen = { body: r.body, streamed: r.streamed, bodySize: r.bodySize };
      }))
      .expect(new OpenConnection(any("server")))
      .check();
    assert.deepEqual(seen, { body: null, streamed: true, bodySize: 6 });
  });

  test("a body set in request while the upload streams: the rest is dropped, the body sent after", () => {
    const ctx = context({ streamLargeBodies: 4 });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    new Playbook(layer)
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\n0123"),
        ),
      )
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply(null, (f) => (f as Flow).request.setText("new")))
      // Nothing goes out while the client still uploads what is being replaced.
      .send(new DataReceived(ctx.client, b("456789")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(server, b("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nnew")),
      )
      .check();
    assert.equal(flow.value.request.text(), "new");
    assert.equal(flow.value.request.headers.get("content-length"), "3");
  });

  test("a refused origin: error hook, then flow_done, the error naming where", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const flow = any<Flow>("flow");
    const pb = new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/")))
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(any("server")))
      .send(reply("connection refused"))
      .expect(new CallHook("error", flow))
      .send(reply())
      .expect(new SendData(ctx.client, any("502 response")))
      .expect(new CallHook("flow_done", flow, true));
    pb.check();
    const hooks = pb.commands.filter((c) => c instanceof CallHook).map((c) => (c as CallHook).name);
    assert.deepEqual(hooks, ["requestheaders", "request", "error", "flow_done"]);
    assert.equal(flow.value.error?.message, "could not connect to a.test: connection refused");
    assert.equal(flow.value.response, null);
  });

  test("a request the hook sends to another origin dials that origin, with its Host", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/orig")))
      .expect(new CallHook("requestheaders", any("flow")))
      .send(reply())
      .expect(new CallHook("request", any("flow")))
      .send(reply(null, (f) => void ((f as Flow).request.url = "https://b.test:8443/moved")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new StartTls(server, null, ["http/1.1", "h2"]))
      .send(reply())
      .expect(new SendData(server, b("GET /moved HTTP/1.1\r\nHost: b.test:8443\r\n\r\n")))
      .check();
    assert.equal(server.value.address.host, "b.test");
    assert.equal(server.value.address.port, 8443);
    assert.equal(server.value.tls?.sni, "b.test", "https: TLS with the new name");
  });
});

/** The one origin connection the layer's pool holds. */
function serverOf(layer: HttpLayer): Server {
  const [conn] = layer.pool.keys();
  return conn as Server;
}

describe("hooks only read-only addons implement (hookObserved)", () => {
  test("they are yielded as observers and the exchange goes on without waiting", () => {
    const observed = new Set(["requestheaders", "responseheaders"]);
    const ctx = context({
      hookListened: (name) => observed.has(name) || name === "flow_done",
      hookObserved: (name) => observed.has(name),
    });
    const layer = new HttpLayer(ctx, REGULAR);
    const flow = any<Flow>("flow");
    const server = any<Server>("server");
    const pb = new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, GET("/")))
      // No reply(): nothing waits for the observer.
      .expect(new CallHook("requestheaders", flow, true), new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, OK))
      .expect(
        new CallHook("responseheaders", flow, true),
        new SendData(ctx.client, OK),
        new CallHook("flow_done", flow, true),
      )
      .check();
    assert.ok(pb.commands.every((c) => !(c instanceof CallHook) || !c.blocking));
  });
});
