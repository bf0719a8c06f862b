// The HTTP/1 rules that keep the proxy from being a smuggling gadget (as tests/hardening checks
// through sockets), on the HttpLayer with a Playbook: framing fields forwarded in canonical form,
// HTTP/1.0 kept, close-delimited bodies, a malformed body that came with its head.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CallHook,
  CloseConnection,
  OpenConnection,
  SendData,
} from "../../src/proxy/core/commands.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { ConnectionClosed, DataReceived, Start } from "../../src/proxy/core/events.ts";
import type { Server } from "../../src/proxy/core/connection.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const origin = (p: Playbook) => p.last(OpenConnection).conn;

describe("HttpLayer, HTTP/1 framing towards either side", () => {
  test("Content-Length and Transfer-Encoding go on in canonical form; the flow keeps the client's", () => {
    const ctx = context({ holdRequestBodies: false, holdResponseBodies: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: \t CHUNKED\r\n\r\n"),
        ),
      )
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(
          server,
          b("POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ),
      )
      .send(new DataReceived(ctx.client, b("3;x=y\r\nabc\r\n0\r\n\r\n")))
      .expect(new SendData(server, b("3\r\nabc\r\n0\r\n\r\n")))
      .send((p) =>
        new DataReceived(origin(p), b("HTTP/1.1 200 OK\r\nContent-Length: 0002\r\n\r\nok"))
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))
      .check();
    const done = pb.commands.find((c) => c instanceof CallHook && c.name === "flow_done");
    const flow = (done as CallHook<Flow>).data;
    assert.equal(flow.request.headers.get("transfer-encoding"), "CHUNKED");
    assert.equal(flow.response?.headers.get("content-length"), "0002");
  });

  test("two equal Content-Length fields become one", () => {
    const ctx = context({ holdRequestBodies: false });
    const server = any<Server>("server");
    new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b(
            "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 03, 3\r\n" +
              "Content-Length: 3\r\n\r\nabc",
          ),
        ),
      )
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(
        new SendData(server, b("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabc")),
      )
      .check();
  });

  test("an HTTP/1.0 request stays HTTP/1.0; the answer is HTTP/1.1, its end the connection's", () => {
    const ctx = context();
    const server = any<Server>("server");
    new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.0\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.0\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          origin(p),
          b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        )
      )
      .expect(new CloseConnection(server))
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok")))
      .expect(new CloseConnection(ctx.client))
      .check();
  });

  test("a body that runs until the origin closes: the client hears Connection: close, then the close", () => {
    const ctx = context({ holdResponseBodies: false });
    const server = any<Server>("server");
    new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      // RFC 9112 section 6.3: the final coding is not chunked, so the body is read until close.
      .send((p) =>
        new DataReceived(
          origin(p),
          b("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n"),
        )
      )
      .expect(
        new SendData(
          ctx.client,
          b("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\nConnection: close\r\n\r\n2\r\nok\r\n"),
        ),
      )
      .check();
  });

  test("a malformed chunk that came with the head: 502 saying why, no 200 goes out", () => {
    const ctx = context({ holdResponseBodies: false });
    const server = any<Server>("server");
    const answer = any<Uint8Array>("answer");
    new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          origin(p),
          b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nok\r\n"),
        )
      )
      .expect(new CloseConnection(server), new SendData(ctx.client, answer))
      .expect(new CloseConnection(ctx.client))
      .check();
    const text = new TextDecoder().decode(answer.value);
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(text, /\r\n\r\nmitm\.ts got a bad response from a\.test: .*chunk.*\.\n$/);
  });
});

describe("HttpLayer, body_size_limit on a response", () => {
  test("a chunked body over the limit that came with its head: 502, nothing of it went out", () => {
    const ctx = context({ holdResponseBodies: false, maxBodyBytes: 4 });
    const server = any<Server>("server");
    const answer = any<Uint8Array>("answer");
    new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          origin(p),
          b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n"),
        )
      )
      .expect(new CloseConnection(server), new SendData(ctx.client, answer))
      .expect(new CloseConnection(ctx.client))
      .check();
    const text = new TextDecoder().decode(answer.value);
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(text, /response body is larger than the proxy's limit of 4 bytes\.\n$/);
  });
});

describe("HttpLayer, a client that leaves", () => {
  test("while a failed exchange's error hook runs: one error, one flow_done", () => {
    const ctx = context({ holdResponseBodies: false });
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
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
      .send((p) => new DataReceived(origin(p), b(head + "2\r\nok\r\n")))
      .expect(new CallHook("responseheaders", flow))
      .send(reply())
      .expect(new SendData(ctx.client, b(head + "2\r\nok\r\n")))
      // The body breaks after its head went out; the client leaves while the error hook runs.
      .send((p) => new DataReceived(origin(p), b("zz\r\n")))
      .expect(new CloseConnection(server), new CallHook("error", flow))
      .send(new ConnectionClosed(ctx.client))
      .expect(new CloseConnection(ctx.client))
      .send(reply())
      .expect(new CallHook("flow_done", flow, true))
      .check();
    assert.match(flow.value.error?.message ?? "", /^response body failed: .*chunk size/);
  });
});
