// A CONNECT inside an HTTP/2 stream (RFC 9113 section 8.5) through the HttpLayer, with a
// src/http2 codec as the h2 client: the 200 leaves the stream open, the stream's DATA go to a
// pipe, and the tunnel's own layer stack (next-layer decision, TLS interception, HTTP/1, or a
// raw relay) runs over the pipe's other end. No sockets: the test stands in for the driver.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloseConnection, OpenPipe, Splice, StartTls } from "../../src/proxy/core/commands.ts";
import { CarriedClient, ConnState, PipeEnd } from "../../src/proxy/core/connection.ts";
import {
  ConnectionClosed,
  DataReceived,
  Start,
  WriteDrained,
} from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { NextLayer } from "../../src/proxy/layers/next_layer.ts";
import type { TlsStartClientData } from "../../src/proxy/layers/tls.ts";
import type { LayerOptions } from "../../src/proxy/core/context.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { ErrorCode } from "../../src/http2/mod.ts";
import { Drive, H2Peer } from "./h2_harness.ts";
import { b, clientHello, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** An h2 client (prior knowledge) on a regular proxy whose CONNECTs open tunnels. */
function h2Proxy(alpn: string | null = "http/1.1", options: Partial<LayerOptions> = {}) {
  const ctx = context(options);
  const layer = new HttpLayer(ctx, REGULAR, "http", (c) => new NextLayer(c, REGULAR), true);
  const drive = new Drive(layer, () => alpn);
  const client = new H2Peer(drive, ctx.client, "client");
  drive.send(new Start());
  client.flush();
  client.read();
  client.flush();
  return { ctx, layer, drive, client };
}

/** Opens a CONNECT stream; returns its id, the tunnel's client and the pipe. */
function connect(p: ReturnType<typeof h2Proxy>, authority = "origin.test:7000") {
  const id = p.client.h2.request([[":method", "CONNECT"], [":authority", authority]], false);
  const yielded = p.client.flush();
  p.client.read();
  const open = yielded.find((c): c is OpenPipe => c instanceof OpenPipe);
  assert.ok(open, "a pipe is opened for the tunnel");
  assert.ok(open.inner instanceof CarriedClient);
  assert.ok(open.outer instanceof PipeEnd);
  return { id, carried: open.inner as CarriedClient, pipe: open.outer as PipeEnd };
}

function flows(drive: Drive): Flow[] {
  return drive.commands.filter((c) => c.toString() === "CallHook(flow_done)").map((c) =>
    (c as unknown as { data: Flow }).data
  );
}

describe("CONNECT inside an HTTP/2 stream", () => {
  test("200 without END_STREAM; the stream's DATA are the tunnel's bytes, both ways", () => {
    const p = h2Proxy();
    const { id, carried, pipe } = connect(p);
    assert.deepEqual(p.client.kinds(id), ["response 200"], "the stream stays open");
    assert.equal(carried.streamId, id);

    p.client.h2.sendData(id, b("hello"), false);
    p.client.flush();
    assert.equal(dec(p.drive.take(pipe)), "hello", "the client's DATA go into the pipe");

    // What the driver reads from the pipe's other end reaches the tunnel's stack: not TLS, not
    // HTTP, so a raw relay to the CONNECT's target.
    const relay = p.drive.send(new DataReceived(carried, b("hello")));
    const server = p.drive.servers[0];
    assert.equal(`${server.address.host}:${server.address.port}`, "origin.test:7000");
    const splice = relay.find((c): c is Splice => c instanceof Splice);
    assert.ok(splice, "the tunnel's stack relays raw bytes");
    assert.equal(splice.a, carried);
    assert.equal(dec(splice.pending.a!), "hello");

    p.drive.send(new DataReceived(pipe, b("world")));
    p.client.read();
    assert.equal(p.client.body(id), "world", "the pipe's bytes are the stream's DATA");

    // Each direction ends on its own: the tunnel's FIN is END_STREAM...
    pipe.state &= ~ConnState.CanRead;
    p.drive.send(new ConnectionClosed(pipe));
    p.client.read();
    assert.deepEqual(p.client.kinds(id), ["response 200", "data", "end"]);
    assert.equal(flows(p.drive).length, 0, "the client may still send");

    // ... and the client's END_STREAM is a FIN into the tunnel.
    p.client.h2.sendData(id, b("late"), true);
    const ended = p.client.flush();
    assert.equal(dec(p.drive.take(pipe)), "late");
    assert.ok(ended.some((c) => c instanceof CloseConnection && c.conn === pipe && c.half));

    const [flow] = flows(p.drive);
    assert.equal(flow.request.method, "CONNECT");
    assert.equal(flow.request.authority, "origin.test:7000");
    assert.equal(flow.request.httpVersion, "HTTP/2.0");
    assert.equal(flow.response?.status, 200);
    assert.equal(flow.error, null);
    assert.equal(p.layer.streams.size, 0);
  });

  test("TLS inside the stream is intercepted: a leaf for the host, then HTTP/1.1 flows", () => {
    const p = h2Proxy("http/1.1");
    p.drive.onHook = (hook) => {
      if (hook.name === "tls_start_client") (hook.data as TlsStartClientData).identity = "leaf";
    };
    const { carried } = connect(p, "secure.test:443");
    const hello = clientHello("secure.test", ["h2", "http/1.1"]);
    const yielded = p.drive.send(new DataReceived(carried, hello));
    assert.ok(
      yielded.some((c) => c.toString() === "CallHook(tls_clienthello)"),
      "the next-layer decision saw the ClientHello",
    );
    const tls = yielded.find((c): c is StartTls => c instanceof StartTls && c.conn === carried);
    assert.ok(tls, "TLS with the tunnel's client, on the pipe");
    assert.deepEqual(tls.received, hello);

    // Decrypted (by the driver, over the pipe): an HTTP/1.1 request inside the tunnel.
    p.drive.send(new DataReceived(carried, b("GET /inside HTTP/1.1\r\nHost: secure.test\r\n\r\n")));
    const server = p.drive.servers.at(-1)!;
    assert.equal(server.address.host, "secure.test");
    assert.ok(server.tls?.established, "the origin is spoken to over TLS");
    assert.equal(
      dec(p.drive.take(server)),
      "GET /inside HTTP/1.1\r\nHost: secure.test\r\n\r\n",
    );
    p.drive.send(new DataReceived(server, b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
    assert.match(dec(p.drive.take(carried)), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    const inner = flows(p.drive).find((f) => f.request.method === "GET");
    assert.ok(inner, "the request inside the tunnel is a flow");
    assert.equal(inner.request.url, "https://secure.test/inside");
    assert.equal(inner.response?.status, 200);
  });

  test("a reset by the client aborts the tunnel; the flow says so", () => {
    const p = h2Proxy();
    const { id, pipe } = connect(p);
    p.client.h2.reset(id, ErrorCode.CANCEL);
    const yielded = p.client.flush();
    assert.ok(
      yielded.some((c) => c instanceof CloseConnection && c.conn === pipe && !c.half),
      "the pipe closes both ways",
    );
    const [flow] = flows(p.drive);
    assert.equal(flow.request.method, "CONNECT");
    assert.match(flow.error?.message ?? "", /client reset the stream \(CANCEL\)/);
  });

  test("the tunnel closing both ways while the client still sends: END_STREAM, RST_STREAM NO_ERROR", () => {
    const p = h2Proxy();
    const { id, pipe } = connect(p);
    pipe.state = ConnState.Closed;
    p.drive.send(new ConnectionClosed(pipe));
    p.client.read();
    assert.deepEqual(p.client.kinds(id), ["response 200", "end", "reset"]);
    const reset = p.client.events.find((e) => e.type === "reset");
    assert.ok(reset?.type === "reset");
    assert.equal(reset.code, ErrorCode.NO_ERROR, "stop sending, without an error (RFC 9113 8.1)");
    assert.equal(flows(p.drive).length, 1);
  });

  test("backpressure: a client that does not read holds back reading the pipe", () => {
    const p = h2Proxy();
    const { pipe } = connect(p);
    p.client.autoAck = false;
    let paused = false;
    for (let i = 0; i < 40 && !paused; i++) {
      const yielded = p.drive.send(new DataReceived(pipe, new Uint8Array(64 * 1024)));
      paused = yielded.some((c) => c.toString() === `PauseReading(${pipe.id})`);
      p.client.read();
    }
    assert.ok(paused, "the pipe is not read while its bytes wait for the client's window");
  });

  test("flow control per stream: the client's window reopens once the pipe took its bytes", () => {
    const p = h2Proxy();
    const { id, pipe } = connect(p);
    p.client.h2.sendData(id, new Uint8Array(1024 * 1024), true);
    p.client.flush();
    p.client.read();
    p.client.flush();
    const first = p.drive.take(pipe).length;
    assert.ok(first > 0 && first < 1024 * 1024, `only a window's worth went in (${first})`);
    // Nothing more until the driver says the pipe took those bytes in.
    p.client.read();
    p.client.flush();
    assert.equal(p.drive.take(pipe).length, 0, "the stream waits for its window");
    let total = first;
    for (let round = 0; round < 50 && total < 1024 * 1024; round++) {
      p.drive.send(new WriteDrained(pipe));
      p.client.read();
      p.client.flush();
      total += p.drive.take(pipe).length;
    }
    assert.equal(total, 1024 * 1024, "all of it, window by window");
  });

  test("eager: an origin that refuses is the CONNECT stream's 502, saying why; no tunnel", () => {
    const p = h2Proxy("http/1.1", { connectionStrategy: "eager" });
    p.drive.dialError = (s) => s.address.port === 7001 ? "connection refused" : null;
    const refused = p.client.h2.request(
      [[":method", "CONNECT"], [":authority", "origin.test:7001"]],
      false,
    );
    const yielded = p.client.flush();
    p.client.read();
    assert.ok(!yielded.some((c) => c instanceof OpenPipe), "no pipe for a refused tunnel");
    assert.deepEqual(p.client.kinds(refused), ["response 502", "data", "end"]);
    assert.match(p.client.body(refused), /origin\.test:7001.*connection refused/);
    // A sibling CONNECT on the same connection still gets its tunnel.
    const { id } = connect(p, "origin.test:7000");
    assert.deepEqual(p.client.kinds(id), ["response 200"]);
    const [flow] = flows(p.drive);
    assert.match(
      flow.error?.message ?? "",
      /could not connect to origin\.test:7001: connection refused/,
    );
  });

  test("extended CONNECT for another protocol than WebSocket: 501 on its stream", () => {
    const p = h2Proxy();
    const id = p.client.h2.request(
      [
        [":method", "CONNECT"],
        [":protocol", "connect-udp"],
        [":scheme", "https"],
        [":authority", "example.com:443"],
        [":path", "/"],
      ],
      false,
    );
    p.client.flush();
    p.client.read();
    assert.equal(p.client.kinds(id)[0], "response 501");
  });
});
