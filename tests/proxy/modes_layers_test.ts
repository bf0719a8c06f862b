// The mode layers as the first layer of a listener: regular (CONNECT into a tunnel), reverse,
// transparent and SOCKS5, driven by Playbooks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Arm,
  CallHook,
  CloseConnection,
  OpenConnection,
  SendData,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { Server } from "../../src/proxy/core/connection.ts";
import { DataReceived, OpenConnectionCompleted, Start } from "../../src/proxy/core/events.ts";
import {
  RegularMode,
  ReverseMode,
  Socks5Mode,
  TransparentMode,
} from "../../src/proxy/layers/modes.ts";
import type { TlsStartClientData } from "../../src/proxy/layers/tls.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { any, Playbook, reply } from "./playbook.ts";

const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
import { b, clientHello, context } from "./layer_helpers.ts";

describe("RegularMode", () => {
  test("CONNECT: 200, then the ClientHello in the tunnel leads to TLS and HTTPS flows", () => {
    const ctx = context();
    const hello = clientHello("secure.test", ["http/1.1"]);
    const server = any<Server>("server");
    const flow = any<Flow>("flow");
    new Playbook(new RegularMode(ctx))
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("CONNECT secure.test:443 HTTP/1.1\r\nHost: secure.test:443\r\n\r\n"),
        ),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 Connection Established\r\n\r\n")))
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, hello))
      .expect(new CallHook("tls_clienthello", any("hello")))
      .send(reply())
      .expect(any("disarm"))
      .expect(new CallHook("tls_start_client", any("start")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", ["http/1.1"], hello))
      .send(reply())
      .send(new DataReceived(ctx.client, b("GET /x HTTP/1.1\r\nHost: secure.test\r\n\r\n")))
      .expect(new CallHook("requestheaders", flow))
      .send(reply())
      .expect(new CallHook("request", flow))
      .send(reply())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new StartTls(server, null, ["http/1.1", "h2"]))
      .send(reply())
      .expect(new SendData(server, b("GET /x HTTP/1.1\r\nHost: secure.test\r\n\r\n")))
      .check();
    assert.equal(flow.value.request.url, "https://secure.test/x");
    assert.equal(flow.value.client.tls?.sni, "secure.test");
    assert.equal(server.value.tls?.sni, "secure.test");
  });

  test("eager CONNECT: the origin is dialled before the 200", () => {
    const ctx = context({ connectionStrategy: "eager" });
    const server = any<Server>("server");
    new Playbook(new RegularMode(ctx), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("CONNECT secure.test:443 HTTP/1.1\r\nHost: secure.test:443\r\n\r\n"),
        ),
      )
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 Connection Established\r\n\r\n")))
      .expect(any<Arm>("timer"))
      .check();
    assert.equal(server.value.address.host, "secure.test");
    assert.equal(server.value.address.port, 443);
  });

  test("eager CONNECT while the shared pool holds a TLS connection there: 200 at once", () => {
    const asked: string[] = [];
    const ctx = context({
      connectionStrategy: "eager",
      pooledTlsOrigin: (host, port) => (asked.push(`${host}:${port}`), true),
    });
    // The tunnel's TLS layer takes the pooled connection for the client's SNI (or dials).
    const pb = new Playbook(new RegularMode(ctx), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("CONNECT secure.test:443 HTTP/1.1\r\nHost: secure.test:443\r\n\r\n"),
        ),
      )
      .expect(new SendData(ctx.client, b("HTTP/1.1 200 Connection Established\r\n\r\n")))
      .expect(any<Arm>("timer"))
      .check();
    assert.deepEqual(asked, ["secure.test:443"]);
    assert.ok(!pb.commands.some((c) => c instanceof OpenConnection));
  });

  test("eager CONNECT to an origin that refuses: 502 naming host:port, no tunnel", () => {
    const ctx = context({ connectionStrategy: "eager" });
    const answer = any<Uint8Array>("answer");
    const pb = new Playbook(new RegularMode(ctx), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx.client,
          b("CONNECT secure.test:443 HTTP/1.1\r\nHost: secure.test:443\r\n\r\n"),
        ),
      )
      .expect(new OpenConnection(any<Server>("server")))
      .send(reply("connection refused"))
      .expect(new SendData(ctx.client, answer), new CloseConnection(ctx.client))
      .check();
    const text = dec(answer.value);
    assert.match(text, /^HTTP\/1\.1 502 /);
    assert.match(text, /secure\.test:443/);
    assert.ok(!pb.commands.some((c) => c instanceof StartTls));
  });

  test("a request to the proxy itself (origin-form, no tunnel) is answered 400 (HTTP/1.1)", () => {
    const ctx = context();
    const body = "request has no host; send it through the proxy, not to it\n";
    new Playbook(new RegularMode(ctx), { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET / HTTP/1.0\r\n\r\n")))
      .expect(
        new SendData(
          ctx.client,
          b(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n" +
              `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
          ),
        ),
      )
      .expect(new CloseConnection(ctx.client))
      .check();
  });
});

describe("RegularMode with proxyauth", () => {
  test("no credentials: 407 with the challenge; the right ones: the request goes on", () => {
    const auth = "Basic dXNlcjpwYXNz"; // user:pass
    const ctx = context({ proxyAuth: auth });
    const answer = any<Uint8Array>("407");
    new Playbook(new RegularMode(ctx), { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
      .expect(new SendData(ctx.client, answer), new CloseConnection(ctx.client))
      .check();
    const sent = dec(answer.value);
    assert.match(sent, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
    assert.match(sent, /\r\nProxy-Authenticate: Basic realm="mitm.ts"\r\n/);

    const ctx2 = context({ proxyAuth: auth });
    new Playbook(new RegularMode(ctx2), { hooks: false })
      .send(new Start())
      .send(
        new DataReceived(
          ctx2.client,
          b(`GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nProxy-Authorization: ${auth}\r\n\r\n`),
        ),
      )
      .expect(new OpenConnection(any("server")))
      .check();
  });
});

describe("ReverseMode", () => {
  test("every request goes to the configured origin with its Host", () => {
    const ctx = context();
    const server = any<Server>("server");
    new Playbook(new ReverseMode(ctx, { scheme: "http", host: "origin.test", port: 8001 }), {
      hooks: false,
    })
      .send(new Start())
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, b("GET /p HTTP/1.1\r\nHost: proxy.local\r\n\r\n")))
      .expect(any("disarm"))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET /p HTTP/1.1\r\nHost: origin.test:8001\r\n\r\n")))
      .check();
    assert.equal(server.value.address.port, 8001);
  });
});

describe("TransparentMode", () => {
  test("without an original destination the connection is closed", () => {
    const ctx = context();
    new Playbook(new TransparentMode(ctx))
      .send(new Start())
      .expect(new CloseConnection(ctx.client))
      .check();
  });
});

describe("Socks5Mode", () => {
  test("handshake, dial, success reply, then the tunnel is read like any other", () => {
    const ctx = context();
    const layer = new Socks5Mode(ctx, { credentials: null });
    const server = any<Server>("server");
    const connect = Uint8Array.from([5, 1, 0, 3, 9, ...b("host.test"), 0x1f, 0x90]);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, Uint8Array.from([5, 1, 0])))
      .expect(new SendData(ctx.client, Uint8Array.from([5, 0])))
      .send(new DataReceived(ctx.client, connect))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(ctx.client, Uint8Array.from([5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90])))
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, b("GET / HTTP/1.1\r\nHost: host.test:8080\r\n\r\n")))
      .expect(any("disarm"))
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: host.test:8080\r\n\r\n")))
      .check();
    assert.equal(layer.state, "tunnel");
  });

  test("a refused destination gets the SOCKS5 'connection refused' reply", () => {
    const ctx = context();
    const connect = Uint8Array.from([5, 1, 0, 1, 10, 0, 0, 1, 0, 80]);
    new Playbook(new Socks5Mode(ctx, { credentials: null }))
      .send(new Start())
      .send(new DataReceived(ctx.client, Uint8Array.from([5, 1, 0])))
      .expect(new SendData(ctx.client, Uint8Array.from([5, 0])))
      .send(new DataReceived(ctx.client, connect))
      .expect(new OpenConnection(any("server")))
      .send((p) =>
        new OpenConnectionCompleted(p.last(OpenConnection), "connection refused", "refused")
      )
      .expect(new SendData(ctx.client, Uint8Array.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])))
      .expect(new CloseConnection(ctx.client))
      .check();
  });
});
