/**
 * A tiny test-only HTTP/2 server (h2c with prior knowledge, or TLS with ALPN h2) driving the
 * server-role Http2Connection over real sockets on 127.0.0.1, so that curl, nghttp and node:http2
 * clients can talk to the codec. Routes:
 *   GET  /hello         "hello" with a trailer x-served-by
 *   GET  /bytes/N       N patterned bytes, sent as the client's windows allow
 *   POST /count         answers with the number of body bytes received
 *   POST /echo          streams the body back; the request window reopens only as the echo
 *                       goes out (backpressure per stream)
 */
import net from "node:net";
import tls from "node:tls";
import { Http2Connection, type Http2Event, type RequestPseudo } from "../../src/http2/mod.ts";
import { bodySender, SocketDriver } from "./socket_driver.ts";

export interface TestServer {
  port: number;
  /** Requests answered, across connections. */
  requests: number;
  /** Peak bytes queued by any stream beyond the peer's windows. */
  maxQueued: number;
  /** Events of kind "connectionError" seen, with their messages. */
  errors: string[];
  close(): Promise<void>;
}

interface StreamState {
  pseudo: RequestPseudo;
  count: number;
  /** /echo: bytes received but not yet acknowledged (acknowledged once echoed). */
  unacked: number;
  sender?: { pump: () => void; done: () => boolean };
}

export async function startTestServer(
  opts: { tls?: { cert: string; key: string } } = {},
): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const state: TestServer = {
    port: 0,
    requests: 0,
    maxQueued: 0,
    errors: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const onSocket = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveConnection(socket, state);
  };
  const server = opts.tls
    ? tls.createServer({ ...opts.tls, ALPNProtocols: ["h2"] }, onSocket)
    : net.createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

function serveConnection(socket: net.Socket, stats: TestServer): void {
  const conn = new Http2Connection({ role: "server" });
  const streams = new Map<number, StreamState>();
  const driver: SocketDriver = new SocketDriver(conn, socket, (ev) => onEvent(ev));

  const respond = (id: number, st: StreamState) => {
    stats.requests++;
    const path = st.pseudo.path ?? "";
    const bytes = /^\/bytes\/(\d+)$/.exec(path);
    if (path === "/hello") {
      conn.sendHeaders(id, [[":status", "200"], ["content-type", "text/plain"]], false);
      conn.sendData(id, new TextEncoder().encode("hello"));
      conn.sendTrailers(id, [["x-served-by", "mitm-ts-http2-codec"]]);
    } else if (bytes) {
      const n = Number(bytes[1]);
      conn.sendHeaders(id, [[":status", "200"], ["content-length", String(n)]], false);
      st.sender = bodySender(driver, id, n);
      st.sender.pump();
    } else if (path === "/count") {
      conn.sendHeaders(id, [[":status", "200"]], false);
      conn.sendData(id, new TextEncoder().encode(String(st.count)), true);
    } else {
      conn.sendHeaders(id, [[":status", "404"]], true);
    }
  };

  const onEvent = (ev: Http2Event) => {
    switch (ev.type) {
      case "request": {
        const st: StreamState = { pseudo: ev.pseudo, count: 0, unacked: 0 };
        streams.set(ev.streamId, st);
        if (ev.pseudo.path === "/echo") {
          conn.sendHeaders(ev.streamId, [[":status", "200"]], ev.endStream);
          if (ev.endStream) stats.requests++;
        } else if (ev.endStream) respond(ev.streamId, st);
        break;
      }
      case "data": {
        const st = streams.get(ev.streamId);
        if (st === undefined) break;
        st.count += ev.data.length;
        if (st.pseudo.path === "/echo") {
          conn.sendData(ev.streamId, ev.data.slice(), ev.endStream);
          st.unacked += ev.data.length;
          if (ev.endStream) stats.requests++;
          stats.maxQueued = Math.max(stats.maxQueued, conn.queuedBytes(ev.streamId));
          // Reopen the window only for what has actually been framed back.
          if (conn.queuedBytes(ev.streamId) === 0) {
            conn.acknowledgeData(ev.streamId, st.unacked);
            st.unacked = 0;
          }
        } else {
          conn.acknowledgeData(ev.streamId, ev.data.length);
          if (ev.endStream) respond(ev.streamId, st);
        }
        break;
      }
      case "trailers": {
        const st = streams.get(ev.streamId);
        if (st && st.pseudo.path !== "/echo") respond(ev.streamId, st);
        else if (st) conn.sendData(ev.streamId, new Uint8Array(0), true);
        break;
      }
      case "drained": {
        const st = streams.get(ev.streamId);
        if (st === undefined) break;
        if (st.sender) {
          stats.maxQueued = Math.max(stats.maxQueued, conn.queuedBytes(ev.streamId));
          st.sender.pump();
        }
        if (st.unacked > 0 && conn.queuedBytes(ev.streamId) === 0) {
          conn.acknowledgeData(ev.streamId, st.unacked);
          st.unacked = 0;
        }
        break;
      }
      case "reset":
        streams.delete(ev.streamId);
        break;
      case "connectionError":
        stats.errors.push(ev.message);
        break;
    }
  };
}
