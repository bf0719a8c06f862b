// The HTTP layer (HTTP/1 connection layers + streams + pool), driven by a Playbook: bytes in,
// exact commands out, no sockets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CallHook,
  CloseConnection,
  type Command,
  OpenConnection,
  SendData,
  Splice,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import {
  ConnectionClosed,
  DataReceived,
  HookAnswered,
  OpenConnectionCompleted,
  Start,
} from "../../src/proxy/core/events.ts";
import { ConnState, type Server } from "../../src/proxy/core/connection.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;

describe("HttpLayer, regular mode, plain HTTP", () => {
  test("absolute-form GET: hooks in order, dial, origin-form upstream, response back", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    const pb = new Playbook(layer)
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("GET http://example.com/a?b=1 HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: keep-alive\r\n\r\n"),
        ),
      )
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        )
      )
      .expect(new CallHook("responseheaders", flow))
      .send(reply())
      .expect(new CallHook("response", flow))
      .send(reply())
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")))
      .expect(new CallHook("flow_done", flow, true))
      .check();
    assert.equal(server.value.address.host, "example.com");
    assert.equal(server.value.address.port, 80);
    assert.equal(flow.value.request.url, "http://example.com/a?b=1");
    assert.equal(flow.value.response?.status, 200);
    assert.equal(new TextDecoder().decode(flow.value.response!.body!), "hi");
    assert.equal(flow.value.server?.reused, false);
    assert.equal(layer.streams.size, 0, "the finished stream is gone");
    assert.equal(pb.commands.filter((c) => c instanceof CloseConnection).length, 0);
  });

  test("keep-alive: the second request reuses the origin connection", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const req = "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n";
    const res = "HTTP/1.1 204 No Content\r\n\r\n";
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(req)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(res)))
      .expect(new SendData(ctx.client, b(res)))
      .send(new DataReceived(ctx.client, b(req)))
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(res)))
      .expect(new SendData(ctx.client, b(res)))
      .check();
  });

  test("keep-alive: disarmed timers are forgotten, so nothing grows with the requests", () => {
    // With deadlines: each exchange arms and disarms the client's idle timer, the origin's read
    // timer and the pooled connection's idle timer.
    const ctx = context({
      idleTimeoutMs: 60_000,
      headerTimeoutMs: 30_000,
      readTimeoutMs: 60_000,
      originIdleTimeoutMs: 30_000,
    });
    const layer = new HttpLayer(ctx, REGULAR);
    const req = b("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
    const res = b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let server: Server | null = null;
    let answered = 0;
    // Carries out what the driver would: dials succeed, hooks answer at once.
    const run = (commands: Command[]) => {
      for (const c of commands) {
        if (c instanceof OpenConnection) {
          server = c.conn;
          server.state = ConnState.Open;
          run(layer.handleEvent(new OpenConnectionCompleted(c, null)));
        } else if (c instanceof CallHook) {
          run(layer.handleEvent(new HookAnswered(c)));
        } else if (c instanceof SendData && c.conn === ctx.client && c.data[0] === 0x48) {
          answered++; // a response head ("HTTP/1.1 200 OK")
        }
      }
    };
    run(layer.handleEvent(new Start()));
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      run(layer.handleEvent(new DataReceived(ctx.client, req)));
      run(layer.handleEvent(new DataReceived(server!, res)));
      sizes.push(layer.waitingAnswers);
    }
    assert.equal(answered, 50);
    // Only the timers now armed (the client's idle timer, the origin's idle timer) remain.
    assert.ok(sizes[49] <= sizes[1], `waiting answers grew: ${sizes.join(",")}`);
  });

  test("pipelined requests are answered in order, the second read after the first answer", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const one = "GET http://a.test/1 HTTP/1.1\r\nHost: a.test\r\n\r\n";
    const two = "GET http://a.test/2 HTTP/1.1\r\nHost: a.test\r\n\r\n";
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(one + two)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"),
        )
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")))
      .expect(new SendData(server, b("GET /2 HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .check();
  });

  test("respond() in requestheaders answers without contacting the origin", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    new Playbook(layer)
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new CallHook("requestheaders", any("flow")))
      .send(reply(null, (f) => (f as Flow).respond(403, "no")))
      .expect(new SendData(ctx.client, b("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")))
      .expect(new CallHook("flow_done", any("flow"), true))
      .check();
  });

  test("a body changed by the request hook goes out with its new Content-Length", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    new Playbook(layer)
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc"),
        ),
      )
      .expect(new CallHook("requestheaders", any("flow")))
      .send(reply())
      .expect(new CallHook("request", any("flow")))
      .send(reply(null, (f) => (f as Flow).request.setText("longer")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(
          server,
          b("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 6\r\n\r\nlonger"),
        ),
      )
      .check();
  });

  test("streaming: with no body hooks, request and response bodies pass as they arrive", () => {
    const ctx = context({ holdRequestBodies: false, holdResponseBodies: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("PUT http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
        ),
      )
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(
          server,
          b("PUT / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"),
        ),
      )
      .send(new DataReceived(ctx.client, b("0\r\n\r\n")))
      .expect(new SendData(server, b("0\r\n\r\n")))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b("HTTP/1.1 200 OK\r\n\r\npart")))
      .expect(
        new SendData(
          ctx.client,
          // Close-delimited from the origin: close-delimited to the client (RFC 9112 6.3).
          b("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart"),
        ),
      )
      .send((p) => new ConnectionClosed(p.last(OpenConnection).conn))
      // The origin's end ends the client's connection too (the Playbook does not mark closed
      // connections, so the server's close shows twice; the driver makes the second a no-op).
      .expect(new CloseConnection(any("server")))
      .expect(new CloseConnection(ctx.client))
      .expect(new CloseConnection(any("server")))
      .check();
  });

  test("an HTTP/1.0 client: Connection: close on the response, then the connection ends", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("GET http://a.test/old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        ),
      )
      .expect(new OpenConnection(any("server")))
      .send(reply())
      .expect(new SendData(any("server"), b("GET /old HTTP/1.0\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nold"),
        )
      )
      // The request went out as HTTP/1.0 too: that origin connection is not reused either.
      .expect(new CloseConnection(any("server")))
      .expect(
        new SendData(
          ctx.client,
          b("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nold"),
        ),
      )
      .expect(new CloseConnection(ctx.client))
      .check();
  });

  test("an early answer while the upload still comes: the client's close lingers", () => {
    const ctx = context({ holdRequestBodies: false, holdResponseBodies: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/big HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\nxyz"),
        ),
      )
      .expect(new OpenConnection(any("server")))
      .send(reply())
      .expect(
        new SendData(
          any("server"),
          b("POST /big HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\nxyz"),
        ),
      )
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"),
        )
      )
      .expect(
        new SendData(
          ctx.client,
          b("HTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"),
        ),
      )
      .send((p) => new ConnectionClosed(p.last(OpenConnection).conn))
      .expect(new CloseConnection(any("server")))
      .expect(new CloseConnection(ctx.client, false, true))
      .check();
    const last = pb.commands.filter((c) => c instanceof CloseConnection).at(-1) as CloseConnection;
    assert.equal(last.linger, true, "FIN, then what the client still sends is drained");
  });

  test("an event stream is not held for a response hook: events pass as they come", () => {
    const ctx = context({ holdRequestBodies: false, holdResponseBodies: true });
    const layer = new HttpLayer(ctx, REGULAR);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(ctx.client, b("GET http://a.test/sse HTTP/1.1\r\nHost: a.test\r\n\r\n")),
      )
      .expect(new OpenConnection(any("server")))
      .send(reply())
      .expect(new SendData(any("server"), b("GET /sse HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: one\n\n"),
        )
      )
      .expect(
        new SendData(
          ctx.client,
          b("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: one\n\n"),
        ),
      )
      .check();
    // The open stream's bytes so far are readable (the web UI shows its events live).
    const response = [...layer.streams.values()][0]?.flow?.response;
    assert.ok(response, "the stream's flow has its response");
    assert.equal(new TextDecoder().decode(response.bodySoFar!()!), "data: one\n\n");
    assert.equal(response.body, null);
  });

  test("Expect: 100-continue is answered by the proxy when it holds the body", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("PUT http://a.test/ HTTP/1.1\r\nHost: a.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
        ),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 100 Continue\r\n\r\n")))
      .send(new DataReceived(ctx.client, b("ok")))
      .expect(new OpenConnection(any("server")))
      .check();
  });

  test("https:// in absolute-form dials and starts TLS with the origin", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET https://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new StartTls(server, null, ["http/1.1", "h2"]))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .check();
    assert.equal(server.value.tls?.sni, "a.test");
  });

  test("101 Switching Protocols: the 101 goes to the client, then both sides are spliced", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const upgrade = "GET http://ws.test/chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\n" +
      "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const switching =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(upgrade)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(
          server,
          b(
            "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
              "Sec-WebSocket-Version: 13\r\nConnection: upgrade\r\n\r\n",
          ),
        ),
      )
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(switching + "\x81\x02hi")))
      .expect(
        new SendData(
          ctx.client,
          b(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nConnection: upgrade\r\n\r\n",
          ),
        ),
      )
      .expect(new Splice(ctx.client, server, "raw", { a: new Uint8Array(0), b: b("\x81\x02hi") }))
      .send(reply())
      .check();
    assert.equal(layer.streams.size, 0);
    assert.equal(layer.pool.size, 0, "the upgraded connection left the pool");
  });

  test("a client that half-closes while its origin is dialled: the exchange ends, the origin connection closes", () => {
    // A FIN looks the same as leaving: like nginx's default, the proxy
    // then frees the origin connection rather than finishing the exchange for a half-closed client.
    const ctx = context();
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    new Playbook(new HttpLayer(ctx, REGULAR))
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(new ConnectionClosed(ctx.client))
      .expect(new CloseConnection(ctx.client))
      // The stream waited for its connection: it sends the request it had, then hears of the
      // client leaving.
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new CloseConnection(server), new CallHook("error", flow))
      .send(reply())
      .expect(new CallHook("flow_done", flow, true))
      .check();
    assert.equal(flow.value.error?.message, "client closed the connection");
    assert.equal(flow.value.response, null);
  });

  test("a client that leaves while the origin has not answered: the origin connection closes", () => {
    const ctx = context();
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    new Playbook(new HttpLayer(ctx, REGULAR))
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send(new ConnectionClosed(ctx.client))
      .expect(new CloseConnection(server), new CallHook("error", flow))
      .expect(new CloseConnection(ctx.client))
      .send(reply())
      .expect(new CallHook("flow_done", flow, true))
      .check();
    assert.equal(flow.value.error?.message, "client closed the connection");
  });
});
