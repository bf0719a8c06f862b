// The driver's pipes (OpenPipe, the transport of a tunnel inside an HTTP/2 stream) over the
// in-memory network: a TLS handshake run over a pipe needs the driver to keep reading the pipe's
// other end while the handshake is under way (its flights pass through the layers), so only the
// piped connection waits for it, not every connection. A stand-in for TLS needs three round
// trips (as a TLS 1.3 HelloRetryRequest does). No sockets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CloseConnection,
  type Command,
  OpenPipe,
  SendData,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { CarriedClient, Client, PipeEnd } from "../../src/proxy/core/connection.ts";
import { Context } from "../../src/proxy/core/context.ts";
import {
  DataReceived,
  type Event,
  Start,
  TlsEstablished,
  TlsFailed,
  WriteDrained,
} from "../../src/proxy/core/events.ts";
import { DirectLayer } from "../../src/proxy/core/layer.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import type { DriverServices, DriverTls } from "../../src/proxy/driver/services.ts";
import { MemoryConn } from "../../src/runtime/shared/memory.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A handshake of three round trips: S1 -> C1, S2 -> C2, S3 -> C3. */
const threeRoundTrips: DriverTls = {
  async accept(conn, _received, _identity, _alpn, firstRead) {
    // A read the driver had started is the handshake's first (as src/runtime/node/tls.ts does).
    let first = firstRead ?? null;
    let text = "";
    for (const n of [1, 2, 3]) {
      conn.write(enc.encode(`S${n}`));
      while (!text.endsWith(`C${n}`)) {
        const chunk = await (first ?? conn.read());
        first = null;
        if (chunk === null) throw new Error(`EOF before C${n}`);
        text += dec.decode(chunk);
      }
    }
    return { conn, alpn: null, version: "stand-in" };
  },
  connect: () => Promise.reject(new Error("not used")),
};

/** Opens a pipe, starts TLS on its inner end and plays the peer on its outer end. */
class PipeHandshake extends DirectLayer {
  readonly carried: CarriedClient;
  readonly pipe: PipeEnd;
  readonly seen: string[] = [];
  outcome: string | null = null;

  constructor(context: Context) {
    super(context);
    this.carried = new CarriedClient(context.client, 1);
    this.pipe = new PipeEnd(this.carried);
  }

  protected handle(event: Event, out: Command[]): void {
    if (event instanceof Start) {
      out.push(new OpenPipe(this.carried, this.pipe));
      out.push(this.detached(new StartTls(this.carried, "identity", [], null)));
    } else if (event instanceof DataReceived && event.conn === this.pipe) {
      const text = dec.decode(event.data);
      this.seen.push(text);
      // The peer answers each server flight.
      for (const m of text.matchAll(/S(\d)/g)) {
        out.push(new SendData(this.pipe, enc.encode(`C${m[1]}`)));
      }
    } else if (event instanceof TlsEstablished || event instanceof TlsFailed) {
      this.outcome = event instanceof TlsEstablished ? "established" : event.error;
      out.push(new CloseConnection(this.pipe));
      out.push(new CloseConnection(this.carried));
      out.push(new CloseConnection(this.context.client));
    } else if (event instanceof WriteDrained) {
      // Writes to the pipe's outer end are reported; nothing to acknowledge here.
    }
  }
}

describe("driver pipes", () => {
  test("a handshake over a pipe that takes three round trips completes", async () => {
    const [, proxySide] = MemoryConn.pair(
      { host: "127.0.0.1", port: 50000 },
      { host: "127.0.0.1", port: 8080 },
    );
    const client = new Client({ host: "127.0.0.1", port: 50000 }, {
      host: "127.0.0.1",
      port: 8080,
    });
    const layer = new PipeHandshake(new Context(client));
    const services: DriverServices = {
      network: new MemoryNetwork(),
      tls: threeRoundTrips,
      hook: () => {},
      log: () => {},
      connectTimeoutMs: 1000,
      closeFlushMs: 100,
    };
    const done = new Driver(layer, client, proxySide, services).run();
    const stalled = new Promise<string>((r) => setTimeout(() => r("stalled"), 10_000));
    const result = await Promise.race([done.then(() => "done"), stalled]);
    assert.equal(result, "done", `the handshake went through: saw ${JSON.stringify(layer.seen)}`);
    assert.equal(layer.outcome, "established");
    assert.deepEqual(layer.seen.join(""), "S1S2S3");
  });
});
