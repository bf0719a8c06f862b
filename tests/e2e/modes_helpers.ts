/**
 * Helpers for the proxy-mode tests: the proxy in-process with chosen modes (shared test CA) and
 * the flows it finished, and an http origin that echoes what it received.
 */
import http from "node:http";
import { createLogger, type Options, type ProxyServer, startProxy } from "../../mod.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { testCa } from "../fixtures/ca.ts";
import { listenLocal } from "./helpers.ts";
import { eventually } from "./https_helpers.ts";

export interface ModesProxy {
  proxy: ProxyServer;
  /** Flows finished so far (flow_done). */
  flows: Flow[];
  log: string[];
  /** The port of the listener of the mode whose text starts with `kind`. */
  port(kind: string): number;
  /** Waits until `n` flows are done; fails with the log otherwise. */
  flowsDone(n: number): Promise<Flow[]>;
}

/** The proxy with `options` (modes: "socks5@0", ...), closed after `fn`. */
export async function withModes(
  options: Partial<Options>,
  fn: (p: ModesProxy) => Promise<void>,
): Promise<void> {
  const flows: Flow[] = [];
  const log: string[] = [];
  const proxy = await startProxy(
    { listen_port: 0, ...options },
    {
      ca: await testCa(),
      log: createLogger("debug", (_level, m) => log.push(m)),
      addons: [{ name: "collect", flow_done: (f: Flow) => void flows.push(f) }],
    },
  );
  const p: ModesProxy = {
    proxy,
    flows,
    log,
    port(kind) {
      const l = proxy.listeners.find((l) => l.mode.text.startsWith(kind));
      if (!l) throw new Error(`no ${kind} listener`);
      return l.address.port;
    },
    async flowsDone(n) {
      const ok = await eventually(() => flows.length >= n);
      if (!ok) throw new Error(`${flows.length} flows, expected ${n}; log:\n${log.join("\n")}`);
      return flows;
    },
  };
  try {
    await fn(p);
  } finally {
    await proxy.close();
  }
}

export interface EchoOrigin {
  port: number;
  /** "METHOD URL host=HOST auth=PROXY-AUTHORIZATION" of every request received. */
  requests: string[];
  close(): Promise<void>;
}

/** A node:http origin on 127.0.0.1 answering each request with its line in `requests`. */
export async function echoOrigin(): Promise<EchoOrigin> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const line = `${req.method} ${req.url} host=${req.headers.host} ` +
      `auth=${req.headers["proxy-authorization"] ?? "-"}`;
    requests.push(line);
    res.setHeader("Content-Type", "text/plain");
    res.end(line);
  });
  return { ...await listenLocal(server), requests };
}
