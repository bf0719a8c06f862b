// TCP passthrough, the next-layer decision and the client TLS layer, driven by Playbooks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Arm,
  CallHook,
  CloseConnection,
  Disarm,
  Log,
  OpenConnection,
  SendData,
  Splice,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { ConnState, Server } from "../../src/proxy/core/connection.ts";
import { ConnectionClosed, DataReceived, Start, Wakeup } from "../../src/proxy/core/events.ts";
import { NextLayer } from "../../src/proxy/layers/next_layer.ts";
import { TcpLayer } from "../../src/proxy/layers/tcp.ts";
import {
  type ClientHelloData,
  ClientTlsLayer,
  firstOriginOffers,
  retryOffers,
  type TlsStartClientData,
} from "../../src/proxy/layers/tls.ts";
import { parseClientHello } from "../../src/tls/client_hello.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, clientHello, context } from "./layer_helpers.ts";
import type { Context } from "../../src/proxy/core/context.ts";
import type { Flow } from "../../src/flow/flow.ts";
import type { Layer } from "../../src/proxy/core/layer.ts";

function tunnelContext(options = {}): Context {
  const ctx = context(options);
  ctx.server = new Server({ host: "example.com", port: 443 });
  return ctx;
}

const TRANSPARENT = { kind: "transparent" } as const;

describe("TcpLayer", () => {
  test("dials, then splices; bytes sent during the dial go with the splice", () => {
    const ctx = tunnelContext();
    const server = ctx.server!;
    new Playbook(new TcpLayer(ctx, b("early ")))
      .send(new Start())
      .expect(new OpenConnection(server))
      .send(new DataReceived(ctx.client, b("more")))
      .send(reply())
      .expect(new Splice(ctx.client, server, "raw", { a: b("early more"), b: null }))
      .check();
  });

  test("a refused dial closes the client", () => {
    const ctx = tunnelContext();
    new Playbook(new TcpLayer(ctx))
      .send(new Start())
      .expect(new OpenConnection(ctx.server!))
      .send(reply("connection refused"))
      .expect(new CloseConnection(ctx.client))
      .check();
  });
});

describe("NextLayer", () => {
  test("plain HTTP inside a tunnel goes to the tunnel's destination", () => {
    const ctx = tunnelContext();
    ctx.server = new Server({ host: "example.com", port: 8000 });
    const layer = new NextLayer(ctx, TRANSPARENT);
    const server = any<Server>("server");
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, b("GE")))
      .send(new DataReceived(ctx.client, b("T / HTTP/1.1\r\nHost: other.test\r\n\r\n")))
      .expect(new Disarm(any("timer")))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: other.test\r\n\r\n")))
      .check();
    assert.equal(layer.decision, "http");
    assert.equal(server.value, ctx.server, "the tunnel's own server connection is used");
  });

  test("a ClientHello: tls_clienthello hook, then the TLS layer", () => {
    const ctx = tunnelContext();
    const layer = new NextLayer(ctx, TRANSPARENT);
    const hello = clientHello("example.com", ["h2", "http/1.1"]);
    const data = any<ClientHelloData>("hello data");
    new Playbook(layer)
      .send(new Start())
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, hello.subarray(0, 10)))
      .send(new DataReceived(ctx.client, hello.subarray(10)))
      .expect(new CallHook("tls_clienthello", data))
      .send(reply())
      .expect(new Disarm(any("timer")))
      .expect(new CallHook("tls_start_client", any("start data")))
      .check();
    assert.equal(layer.decision, "tls");
    assert.equal(data.value.sni, "example.com");
    assert.deepEqual(data.value.alpn, ["h2", "http/1.1"]);
    assert.equal(data.value.ignoreConnection, false);
  });

  test("an ignored host passes through untouched, ClientHello included", () => {
    const ctx = tunnelContext({ intercepts: () => false });
    const hello = clientHello("bank.test");
    new Playbook(new NextLayer(ctx, TRANSPARENT), { hooks: false })
      .send(new Start())
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, hello))
      .expect(new Disarm(any("timer")))
      .expect(new OpenConnection(ctx.server!))
      .send(reply())
      .expect(new Splice(ctx.client, ctx.server!, "raw", { a: hello, b: null }))
      .check();
  });

  test("plain HTTP to an ignored host passes through untouched", () => {
    const seen: Array<[string, number, string | null]> = [];
    const ctx = tunnelContext({
      intercepts: (host: string, port: number, sni: string | null) => {
        seen.push([host, port, sni]);
        return false;
      },
    });
    const request = b(
      "GET / HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: keep-alive\r\n\r\n",
    );
    const layer = new NextLayer(ctx, TRANSPARENT);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .expect(any<Arm>("timer"))
      .send(new DataReceived(ctx.client, request))
      .expect(new Disarm(any("timer")))
      .expect(new OpenConnection(ctx.server!))
      .send(reply())
      .expect(new Splice(ctx.client, ctx.server!, "raw", { a: request, b: null }))
      .check();
    assert.equal(layer.decision, "tcp");
    assert.deepEqual(seen, [["example.com", 443, null]]);
  });

  test("a client that never speaks: after the wait, TCP passthrough (server speaks first)", () => {
    const ctx = tunnelContext();
    const layer = new NextLayer(ctx, TRANSPARENT);
    const pb = new Playbook(layer).send(new Start()).expect(any<Arm>("timer")).check();
    pb.send(new Wakeup(pb.last(Arm)))
      .expect(new OpenConnection(ctx.server!))
      .check();
    assert.equal(layer.decision, "tcp");
  });

  test("an origin dialled before the tunnel that speaks first: after the wait, a raw relay with its greeting", () => {
    const ctx = tunnelContext();
    const server = ctx.server!;
    server.state = ConnState.Open; // CONNECT dialled it before answering 200
    const layer = new NextLayer(ctx, TRANSPARENT);
    const pb = new Playbook(layer).send(new Start()).expect(any<Arm>("timer")).check();
    // Kept until the client's wait is over (as for any server-first protocol), then relayed.
    pb.send(new DataReceived(server, b("220 ready\r\n"))).check();
    assert.equal(layer.decision, "undecided");
    pb.send(new Wakeup(pb.last(Arm)))
      .expect(new Splice(ctx.client, server, "raw", { a: null, b: b("220 ready\r\n") }))
      .check();
    assert.equal(layer.decision, "tcp");
  });

  test("an HTTP/2 origin dialled before the tunnel sends SETTINGS first; an h2c client's preface still means HTTP", () => {
    const ctx = tunnelContext();
    const server = ctx.server!;
    server.state = ConnState.Open; // CONNECT dialled it before answering 200
    const layer = new NextLayer(ctx, TRANSPARENT);
    const settings = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]); // an empty SETTINGS frame
    const commands = [
      ...layer.handleEvent(new Start()),
      ...layer.handleEvent(new DataReceived(server, settings)),
      ...layer.handleEvent(new DataReceived(ctx.client, b("PRI * HTTP/2.0\r\n"))),
    ];
    assert.equal(layer.decision, "undecided", "half a preface: not decided yet");
    commands.push(...layer.handleEvent(new DataReceived(ctx.client, b("\r\nSM\r\n\r\n"))));
    assert.equal(layer.decision, "http");
    assert.equal(commands.filter((c) => c instanceof Splice).length, 0, "not relayed as raw TCP");
  });

  test("other bytes: TCP passthrough with them; a silent close just closes", () => {
    const ctx = tunnelContext();
    new Playbook(new NextLayer(ctx, TRANSPARENT, b("SSH-2.0-x\r\n")))
      .send(new Start())
      .expect(new OpenConnection(ctx.server!))
      .send(reply())
      .expect(new Splice(ctx.client, ctx.server!, "raw", { a: b("SSH-2.0-x\r\n"), b: null }))
      .check();
    const ctx2 = tunnelContext();
    new Playbook(new NextLayer(ctx2, TRANSPARENT))
      .send(new Start())
      .expect(any<Arm>("timer"))
      .send(new ConnectionClosed(ctx2.client))
      .expect(new Disarm(any("timer")), new CloseConnection(ctx2.client))
      .check();
  });
});

describe("ClientTlsLayer", () => {
  function tls(ctx: Context, hello: Uint8Array, child?: (c: Context) => Layer) {
    const parsed = parseClientHello(hello);
    assert.equal(parsed.kind, "hello");
    if (parsed.kind !== "hello") throw new Error();
    return new ClientTlsLayer(ctx, parsed.hello, hello, child ?? ((c) => new TcpLayer(c)));
  }

  test("lazy: the leaf hook, then the handshake with the peeked bytes and our ALPN offer", () => {
    const ctx = tunnelContext();
    const hello = clientHello("example.com", ["h2", "http/1.1"]);
    const start = any<TlsStartClientData>("start data");
    const layer = tls(ctx, hello);
    new Playbook(layer)
      .send(new Start())
      .expect(new CallHook("tls_start_client", start))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", ["h2", "http/1.1"], hello))
      .send(reply())
      .expect(new OpenConnection(ctx.server!)) // the child (here TCP) starts
      .check();
    assert.equal(start.value.name, "example.com");
    assert.equal(ctx.client.tls?.alpn, "h2");
    assert.equal(layer.state, "established");
  });

  test("option http2 off: only http/1.1 is offered to the client", () => {
    const ctx = tunnelContext({ http2: false });
    const hello = clientHello("example.com", ["h2", "http/1.1"]);
    new Playbook(tls(ctx, hello))
      .send(new Start())
      .expect(new CallHook("tls_start_client", any("start data")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", ["http/1.1"], hello))
      .send(reply())
      .expect(new OpenConnection(ctx.server!))
      .check();
    assert.equal(ctx.client.tls?.alpn, "http/1.1");
  });

  test("eager: the origin's handshake first; its ALPN choice is what the client is offered", () => {
    const ctx = tunnelContext({ connectionStrategy: "eager" });
    const server = ctx.server!;
    const hello = clientHello("example.com", ["http/1.1"]);
    new Playbook(tls(ctx, hello))
      .send(new Start())
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new StartTls(server))
      .send(reply())
      .expect(new CallHook("tls_start_client", any("start data")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", ["http/1.1"], hello))
      .check();
    assert.equal(server.tls?.sni, "example.com");
    assert.deepEqual(server.tls?.alpnOffers, ["http/1.1"]);
  });

  const NO_ALPN =
    "TLS handshake failed: alert no_application_protocol (the peer speaks none of the offered ALPN protocols)";

  test("eager, an HTTP/1.1 client, an h2-only origin: dialled again offering h2 too", () => {
    const ctx = tunnelContext({ connectionStrategy: "eager" });
    const first = ctx.server!;
    const hello = clientHello("example.com", ["http/1.1"]);
    const again = any<Server>("second server");
    const pb = new Playbook(tls(ctx, hello))
      .send(new Start())
      .expect(new OpenConnection(first))
      .send(reply())
      .expect(new StartTls(first))
      .send(reply(NO_ALPN))
      .expect(new CloseConnection(first), new OpenConnection(again))
      .send(reply())
      .expect(new StartTls(again))
      .send((p) => {
        ctx.server!.tls!.alpn = "h2"; // the second connection's handshake chose h2
        return reply()(p);
      })
      .expect(new CallHook("tls_start_client", any("start data")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", ["h2", "http/1.1"], hello))
      .check();
    assert.deepEqual(first.tls?.alpnOffers, ["http/1.1"]);
    assert.deepEqual(again.value.tls?.alpnOffers, ["http/1.1", "h2"]);
    assert.equal(again.value.tls?.sni, "example.com");
    assert.deepEqual(again.value.address, first.address);
    // The tunnel's server is the second connection now: the HTTP layer adopts it.
    assert.equal(ctx.server, again.value);
    const logs = pb.commands.filter((c) => c instanceof Log).map((c) => (c as Log).message);
    assert.ok(logs.some((m) => /dialling again offering http\/1\.1, h2/.test(m)), logs.join("\n"));
  });

  test("which offers an origin gets, and again after no_application_protocol", () => {
    const both = ["h2", "http/1.1"];
    assert.deepEqual(firstOriginOffers(["http/1.1"], both), ["http/1.1"]);
    assert.deepEqual(firstOriginOffers(["h2", "http/1.1", "spdy/3"], both), ["h2", "http/1.1"]);
    // No ALPN from the client: it speaks HTTP/1.1, so the origin is asked for that.
    assert.deepEqual(firstOriginOffers([], both), ["http/1.1"]);
    assert.deepEqual(retryOffers(NO_ALPN, ["http/1.1"], both, true), ["http/1.1", "h2"]);
    assert.deepEqual(retryOffers(NO_ALPN, ["h2"], both, true), ["h2", "http/1.1"]);
    assert.equal(retryOffers(NO_ALPN, ["h2", "http/1.1"], both, true), null);
    assert.equal(retryOffers(NO_ALPN, ["http/1.1"], ["http/1.1"], true), null);
    // A client without ALPN: at last none, as it sent (an origin that is not HTTP at all).
    assert.deepEqual(retryOffers(NO_ALPN, ["http/1.1", "h2"], both, false), []);
    assert.equal(retryOffers(NO_ALPN, [], both, false), null);
    const other = "TLS handshake failed: alert handshake_failure";
    assert.equal(retryOffers(other, ["http/1.1"], both, true), null);
  });

  test("eager, a client without ALPN: the origin is offered http/1.1, then h2 too", () => {
    const ctx = tunnelContext({ connectionStrategy: "eager" });
    const first = ctx.server!;
    const hello = clientHello("example.com");
    new Playbook(tls(ctx, hello))
      .send(new Start())
      .expect(new OpenConnection(first))
      .send(reply())
      .expect(new StartTls(first))
      .send(reply(NO_ALPN))
      .expect(new CloseConnection(first), new OpenConnection(any<Server>("second server")))
      .send(reply())
      .expect(new StartTls(any<Server>("second server")))
      .send(reply())
      .expect(new CallHook("tls_start_client", any("start data")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      // The client sent no ALPN: none is offered to it.
      .expect(new StartTls(ctx.client, "LEAF", [], hello))
      .check();
    assert.deepEqual(first.tls?.alpnOffers, ["http/1.1"]);
    assert.deepEqual(ctx.server!.tls?.alpnOffers, ["http/1.1", "h2"]);
  });

  test("the second attempt failing too: the existing origin failure, naming both offers", () => {
    const ctx = tunnelContext({ connectionStrategy: "eager" });
    const hello = clientHello("example.com", ["http/1.1"]);
    const again = any<Server>("second server");
    const failed = any<{ error: string }>("failed data");
    new Playbook(tls(ctx, hello))
      .send(new Start())
      .expect(new OpenConnection(ctx.server!))
      .send(reply())
      .expect(new StartTls(ctx.server!))
      .send(reply(NO_ALPN))
      .expect(new CloseConnection(ctx.server!), new OpenConnection(again))
      .send(reply())
      .expect(new StartTls(again))
      .send(reply("TLS handshake failed: alert handshake_failure"))
      .expect(new CallHook("tls_failed_server", failed))
      .send(reply())
      .expect(new CloseConnection(again), new CallHook("tls_start_client", any("start data")))
      .check();
    assert.equal(
      failed.value.error,
      "TLS handshake failed: alert handshake_failure (ALPN offers tried: http/1.1 | http/1.1, h2)",
    );
  });

  test("a client refusing our certificate: tls_failed_client with the error, then close", () => {
    const ctx = tunnelContext();
    const hello = clientHello("example.com");
    const failed = any<{ error: string }>("failed data");
    const flow = any<Flow>("flow");
    new Playbook(tls(ctx, hello))
      .send(new Start())
      .expect(new CallHook("tls_start_client", any("start data")))
      .send(reply(null, (d) => ((d as TlsStartClientData).identity = "LEAF")))
      .expect(new StartTls(ctx.client, "LEAF", [], hello))
      .send(reply("client refused the certificate (unknown CA)"))
      .expect(new CallHook("tls_failed_client", failed))
      .send(reply())
      .expect(new CallHook("error", flow))
      .send(reply())
      .expect(new CloseConnection(ctx.client), new CallHook("flow_done", flow, true))
      .check();
    assert.equal(failed.value.error, "client refused the certificate (unknown CA)");
    assert.equal(flow.value.request.method, "CONNECT");
    assert.equal(flow.value.request.host, "example.com");
    assert.equal(
      flow.value.error?.message,
      "client TLS handshake failed: the client does not trust the proxy's certificate for " +
        "example.com (client refused the certificate (unknown CA))",
    );
  });
});
