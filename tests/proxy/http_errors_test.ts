// The HTTP layer when things go wrong (a refused or broken origin, a malformed request or
// response, limits): a response saying what happened, and flows carrying the error. Playbooks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CallHook,
  CloseConnection,
  OpenConnection,
  SendData,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { ConnectionClosed, DataReceived, Start } from "../../src/proxy/core/events.ts";
import type { Server } from "../../src/proxy/core/connection.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;

describe("HttpLayer failures", () => {
  test("a refused origin becomes a 502 with the reason (the client connection stays), and a flow carrying the error", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const flow = any<Flow>("flow");
    const body = "mitm.ts could not connect to down.test: connection refused. Check the host " +
      "name and that the server is up.\n";
    new Playbook(layer)
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("GET http://down.test/ HTTP/1.1\r\nHost: down.test\r\n\r\n"),
        ),
      )
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(any("server")))
      .send(reply("connection refused"))
      .expect(new CallHook("error", flow))
      .send(reply())
      .expect(
        new SendData(
          ctx.client,
          b(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
        ),
      )
      .expect(new CallHook("flow_done", flow, true))
      .check();
    // What failed, where, and why.
    assert.equal(flow.value.error?.message, "could not connect to down.test: connection refused");
  });

  test("HEAD to a refused origin: a 502 head without its body, and the connection stays", () => {
    const ctx = context({ hookListened: () => false });
    const body = "mitm.ts could not connect to down.test: connection refused. Check the host " +
      "name and that the server is up.\n";
    new Playbook(new HttpLayer(ctx, REGULAR))
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("HEAD http://down.test/ HTTP/1.1\r\nHost: down.test\r\n\r\n"),
        ),
      )
      .expect(new OpenConnection(any("server")))
      .send(reply("connection refused"))
      .expect(
        new SendData(
          ctx.client,
          b(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`),
        ),
      )
      // The next request on the same connection is served.
      .send(
        new DataReceived(
          ctx.client,
          b("HEAD http://down.test/ HTTP/1.1\r\nHost: down.test\r\n\r\n"),
        ),
      )
      .expect(new OpenConnection(any("server")))
      .check();
  });

  test("a malformed request is answered 400 with the reason and the connection closed", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const body =
      "mitm.ts refused the request: request has both Content-Length and Transfer-Encoding.\n";
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ),
      )
      .expect(
        new SendData(
          ctx.client,
          b(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
        ),
      )
      .expect(new CloseConnection(ctx.client))
      .check();
  });

  test("a request body malformed from its first bytes: 400, and nothing reaches an origin", () => {
    const ctx = context({ holdRequestBodies: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const body = "mitm.ts refused the request: chunk size is not a hexadecimal number.\n";
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ),
      )
      .expect(
        new SendData(
          ctx.client,
          b(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
        ),
      )
      .expect(new CloseConnection(ctx.client))
      .check();
  });

  test("an origin cutting the response short: the client connection is closed", () => {
    const ctx = context({ holdResponseBodies: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"),
        )
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")))
      .send((p) => new ConnectionClosed(p.last(OpenConnection).conn))
      .expect(new CloseConnection(server))
      .expect(new CloseConnection(ctx.client))
      .check();
  });

  test("an origin whose TLS handshake fails: a 502 saying why, and a flow carrying the error", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    const why = "certificate verify failed: self-signed certificate";
    const text = `mitm.ts could not connect to bad.test: ${why}. Use -k (--ssl-insecure) to ` +
      "skip the check, or --set ssl_verify_upstream_trusted_ca=FILE.";
    new Playbook(layer)
      .send(new Start())
      .send(
        new DataReceived(ctx.client, b("GET https://bad.test/ HTTP/1.1\r\nHost: bad.test\r\n\r\n")),
      )
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new StartTls(server, null, ["http/1.1", "h2"]))
      .send(reply(why))
      .expect(new CloseConnection(server))
      .expect(new CallHook("error", flow))
      .send(reply())
      .expect(
        new SendData(
          ctx.client,
          b(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n" +
              `Content-Length: ${text.length + 1}\r\n\r\n${text}\n`,
          ),
        ),
      )
      .expect(new CallHook("flow_done", flow, true))
      .check();
    assert.equal(flow.value.error?.message, `could not connect to bad.test: ${why}`);
    assert.equal(flow.value.response, null, "no response came from the origin");
  });

  test("a malformed response from the origin: 502 saying what was wrong", () => {
    const ctx = context();
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const answer = any<Uint8Array>("answer");
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
        )
      )
      .expect(new CloseConnection(server), new SendData(ctx.client, answer))
      .expect(new CloseConnection(ctx.client))
      .check();
    const text = new TextDecoder().decode(answer.value);
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(
      text,
      /got a bad response from a\.test: response Content-Length "x" is invalid\.\n$/,
    );
  });

  test("a request head over the limit: 431 with the reason", () => {
    const ctx = context({ maxHeadBytes: 64 });
    const answer = any<Uint8Array>("answer");
    new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-Long: " + "y".repeat(100)),
        ),
      )
      .expect(new SendData(ctx.client, answer), new CloseConnection(ctx.client))
      .check();
    const text = new TextDecoder().decode(answer.value);
    assert.match(text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(text, /mitm\.ts refused the request: request head is larger than 64 bytes\.\n$/);
  });
});
