// A listener running the new core on real sockets, for the HTTP/2 driver tests: one Driver per
// connection with the given mode layer; flows (flow_done) are collected.
import { execFile } from "node:child_process";
import http2 from "node:http2";
import { CertificateAuthority, LeafCache } from "../../src/ca/mod.ts";
import { encodeFrame, FrameParser, Opcode } from "../../src/websocket/mod.ts";
import { network } from "../../src/runtime/mod.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS, type LayerOptions } from "../../src/proxy/core/context.ts";
import type { Layer } from "../../src/proxy/core/layer.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import {
  runtimeServices,
  type RuntimeServicesOptions,
} from "../../src/proxy/driver/runtime_services.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { testCa } from "../fixtures/ca.ts";

export interface TestProxy {
  port: number;
  flows: Flow[];
  close(): Promise<void>;
}

export async function layeredProxy(
  mode: (ctx: Context) => Layer,
  options: Partial<LayerOptions> = {},
  services: Partial<RuntimeServicesOptions> = {},
): Promise<TestProxy> {
  const proxyCa = await testCa();
  const flows: Flow[] = [];
  const s = runtimeServices({
    network,
    leaves: new LeafCache(proxyCa.ca),
    verifyUpstream: false,
    hook(name, data) {
      if (name === "flow_done") flows.push(data as Flow);
    },
    log() {},
    ...services,
  });
  const drivers: Promise<void>[] = [];
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const client = new Client(conn.remote, conn.local);
    const ctx = new Context(client, { ...DEFAULT_LAYER_OPTIONS, ...options });
    drivers.push(new Driver(mode(ctx), client, conn, s).run());
  });
  return {
    port: listener.address.port,
    flows,
    async close() {
      await Promise.all(drivers);
      await listener.close();
    },
  };
}

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`${cmd} failed: ${e.message} ${stderr}`));
      else resolve(String(stdout));
    });
  });
}

export const curl = (args: string[]) => run("curl", ["-s", "--max-time", "60", ...args]);

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A node:http2 origin (TLS, h2 only) with SETTINGS_ENABLE_CONNECT_PROTOCOL: it answers extended CONNECT with
 * 200 and echoes text messages as "h2 echo: TEXT"; a close is answered and ends the stream.
 * GET / answers `page` when one is given.
 */
export async function h2WebSocketOrigin(page = "") {
  const { ca } = await CertificateAuthority.create();
  const leaf = await ca.issue(["127.0.0.1"]);
  const server = http2.createSecureServer({
    cert: leaf.certPem,
    key: leaf.keyPem,
    allowHTTP1: false,
    settings: { enableConnectProtocol: true },
  });
  const paths: string[] = [];
  server.on("stream", (stream, headers) => {
    if (headers[":method"] === "GET" && headers[":path"] === "/" && page !== "") {
      stream.respond({ ":status": 200, "content-type": "text/html; charset=utf-8" });
      stream.end(page);
      return;
    }
    if (headers[":method"] !== "CONNECT" || headers[":protocol"] !== "websocket") {
      stream.respond({ ":status": 400 });
      stream.end();
      return;
    }
    paths.push(String(headers[":path"]));
    stream.respond({ ":status": 200 });
    const parser = new FrameParser({ masked: true });
    stream.on("data", (chunk: Buffer) => {
      for (const f of parser.push(new Uint8Array(chunk))) {
        if (f.opcode === Opcode.Text) {
          const text = `h2 echo: ${dec.decode(f.payload)}`;
          stream.write(encodeFrame({ opcode: Opcode.Text, payload: enc.encode(text), mask: null }));
        } else if (f.opcode === Opcode.Close) {
          stream.end(encodeFrame({ opcode: Opcode.Close, payload: f.payload, mask: null }));
        }
      }
    });
    stream.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    paths,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
