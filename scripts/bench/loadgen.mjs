// A load generator for proxies, run on Node (so it is none of the proxies measured).
//
//   node scripts/bench/loadgen.mjs --proxy http://127.0.0.1:8080 --target https://127.0.0.1:8443/1k \
//        --mode keepalive --connections 16 --duration 10
//
// Modes:
//   keepalive  each connection: (CONNECT + TLS for https) then requests back to back
//   newconn    each worker: new connection, CONNECT + TLS + one request, close; repeat
//   hosts      --hosts N distinct server names (SNI h<i>.bench.test), each a new
//              connection with one request: leaf issuance on the proxy's hot path. With
//              --spread-ips, CONNECT goes to a distinct loopback address per name (127.0.1.1,
//              127.0.1.2, ...; the origin must listen on them), for proxies that name the leaf
//              after the CONNECT host rather than the SNI.
//   idle       --connections N keep-alive connections, one request each, then held open; prints
//              "IDLE n" when they are, and the result once stdin closes
// http:// targets go as absolute-form requests on keep-alive connections (no CONNECT).
// --requests N stops after N answered requests instead of after --duration seconds.
// Prints one JSON object: requests, errors, seconds, rps, latency percentiles (ms).
import net from "node:net";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { spreadIp } from "./ips.mjs";

const { values: args } = parseArgs({
  options: {
    proxy: { type: "string" },
    target: { type: "string" },
    mode: { type: "string", default: "keepalive" },
    connections: { type: "string", default: "16" },
    duration: { type: "string", default: "10" },
    hosts: { type: "string", default: "500" },
    warmup: { type: "string", default: "1" },
    "spread-ips": { type: "boolean", default: false },
    requests: { type: "string", default: "0" },
  },
});

const proxy = new URL(args.proxy);
const target = new URL(args.target);
const https = target.protocol === "https:";
const targetPort = Number(target.port || (https ? 443 : 80));
const connections = Number(args.connections);
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const path = target.pathname + target.search;

const latencies = [];
let requests = 0;
/** Requests answered, the warm-up included (for CPU per request). */
let answered = 0;
let errors = 0;
/** The first failure's message, to say why errors happened. */
let firstError = null;
function failed(e) {
  errors++;
  firstError ??= e?.message ?? String(e);
}
let measuring = false;
let stopAt = Infinity;
/** --requests: stop once this many have been answered (0: run for --duration). */
const requestLimit = Number(args.requests);

function connectProxy() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: proxy.hostname, port: Number(proxy.port) });
    s.setNoDelay(true);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Reads from `s` until `done(buffer)` returns the number of bytes of a complete message. */
function readMessage(s, state, done) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const n = done(state.buf);
      if (n > 0) {
        const msg = state.buf.subarray(0, n);
        state.buf = state.buf.subarray(n);
        cleanup();
        resolve(msg);
        return true;
      }
      return false;
    };
    const onData = (d) => {
      state.buf = state.buf.length ? Buffer.concat([state.buf, d]) : d;
      check();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("connection closed"));
    };
    const cleanup = () => {
      s.off("data", onData);
      s.off("end", onEnd);
      s.off("close", onEnd);
      s.off("error", onEnd);
    };
    if (check()) return;
    s.on("data", onData);
    s.on("end", onEnd);
    s.on("close", onEnd);
    s.on("error", onEnd);
  });
}

/** Length of a complete response (head + Content-Length body) at the start of buf, or 0. */
function responseLength(buf) {
  const head = buf.indexOf("\r\n\r\n");
  if (head < 0) return 0;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, head).toString("latin1"));
  const total = head + 4 + (m ? Number(m[1]) : 0);
  return buf.length >= total ? total : 0;
}

function headLength(buf) {
  const head = buf.indexOf("\r\n\r\n");
  return head < 0 ? 0 : head + 4;
}

/** A connection ready for requests: through CONNECT + TLS for https. */
async function open(servername, connectHost = target.hostname) {
  const s = await connectProxy();
  const state = { buf: Buffer.alloc(0) };
  if (!https) return { s, state };
  s.write(
    `CONNECT ${connectHost}:${targetPort} HTTP/1.1\r\nHost: ${connectHost}:${targetPort}\r\n\r\n`,
  );
  const head = await readMessage(s, state, headLength);
  if (!/^HTTP\/1\.[01] 200/.test(head.toString("latin1"))) throw new Error("CONNECT refused");
  const t = tls.connect({
    socket: s,
    servername: servername ?? (net.isIP(target.hostname) ? undefined : target.hostname),
    rejectUnauthorized: false,
    ALPNProtocols: ["http/1.1"],
  });
  await new Promise((resolve, reject) => {
    t.once("secureConnect", resolve);
    t.once("error", reject);
  });
  return { s: t, state: { buf: Buffer.alloc(0) } };
}

function requestBytes(host) {
  const line = https ? path : `${target.protocol}//${target.host}${path}`;
  return `GET ${line} HTTP/1.1\r\nHost: ${
    host ?? target.host
  }\r\nUser-Agent: mitm-ts-loadgen\r\n\r\n`;
}

async function oneRequest(conn, bytes) {
  const start = performance.now();
  conn.s.write(bytes);
  const res = await readMessage(conn.s, conn.state, responseLength);
  if (!/^HTTP\/1\.[01] 200/.test(res.subarray(0, 12).toString("latin1"))) throw new Error("status");
  return performance.now() - start;
}

function record(ms) {
  answered++;
  if (!measuring) return;
  requests++;
  latencies.push(ms);
  if (requestLimit > 0 && requests >= requestLimit) stopAt = Math.min(stopAt, performance.now());
}

const HEAD_END = Buffer.from("\r\n\r\n");
const CL_LOWER = Buffer.from("content-length:");
const CL_TITLE = Buffer.from("Content-Length:");

/** Content-Length of the head ending at `headEnd` (0 if absent), without making strings. */
function contentLength(buf, headEnd) {
  let i = buf.indexOf(CL_LOWER);
  if (i < 0 || i > headEnd) i = buf.indexOf(CL_TITLE);
  if (i < 0 || i > headEnd) return 0;
  let n = 0;
  for (let j = i + CL_LOWER.length; j < headEnd; j++) {
    const c = buf[j];
    if (c >= 0x30 && c <= 0x39) n = n * 10 + (c - 0x30);
    else if (c !== 0x20 || n > 0) break;
  }
  return n;
}

/**
 * Requests back to back on one connection until stopAt, driven by data events (no promise per
 * request, so the generator stays cheap next to the proxy it measures).
 */
function runKeepalive(conn, bytes) {
  return new Promise((resolve, reject) => {
    const s = conn.s;
    let buf = conn.state.buf;
    let need = -1;
    let sent = 0;
    const finish = (e) => {
      s.off("data", onData);
      s.off("close", onClose);
      s.off("error", onClose);
      if (e) reject(e);
      else resolve();
    };
    const onClose = () => finish(new Error("connection closed"));
    const send = () => {
      sent = performance.now();
      s.write(bytes);
    };
    const onData = (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        if (need < 0) {
          const head = buf.indexOf(HEAD_END);
          if (head < 0) return;
          if (buf[9] !== 0x32) return finish(new Error("status"));
          need = head + 4 + contentLength(buf, head);
        }
        if (buf.length < need) return;
        buf = buf.subarray(need);
        need = -1;
        record(performance.now() - sent);
        if (performance.now() >= stopAt) return finish();
        send();
      }
    };
    s.on("data", onData);
    s.on("close", onClose);
    s.on("error", onClose);
    send();
  });
}

async function keepaliveWorker() {
  const bytes = requestBytes();
  while (performance.now() < stopAt) {
    let conn;
    try {
      conn = await open();
      await runKeepalive(conn, bytes);
    } catch (e) {
      if (measuring) failed(e);
    } finally {
      conn?.s.destroy();
    }
  }
}

async function newconnWorker() {
  const bytes = requestBytes();
  while (performance.now() < stopAt) {
    const start = performance.now();
    let conn;
    try {
      conn = await open();
      await oneRequest(conn, bytes);
      record(performance.now() - start);
    } catch (e) {
      if (measuring) failed(e);
    } finally {
      conn?.s.destroy();
    }
  }
}

async function runTimed(worker) {
  stopAt = performance.now() + warmupMs + durationMs;
  setTimeout(() => (measuring = true), warmupMs);
  const started = performance.now() + warmupMs;
  await Promise.all(Array.from({ length: connections }, () => worker()));
  return (Math.min(performance.now(), stopAt) - started) / 1000;
}

async function runHosts() {
  const n = Number(args.hosts);
  let next = 0;
  measuring = true;
  const start = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    for (let i = next++; i < n; i = next++) {
      const name = `h${i}.bench.test`;
      const t0 = performance.now();
      let conn;
      try {
        const ip = args["spread-ips"] ? spreadIp(i) : null;
        conn = await open(name, ip ?? target.hostname);
        // The Host names the address, not the SNI name: some proxies (http-mitm-proxy) route by
        // Host, and h<i>.bench.test does not resolve.
        await oneRequest(conn, requestBytes(ip ? `${ip}:${targetPort}` : name));
        record(performance.now() - t0);
      } catch (e) {
        failed(e);
      } finally {
        conn?.s.destroy();
      }
    }
  }));
  return (performance.now() - start) / 1000;
}

async function runIdle() {
  measuring = true;
  const start = performance.now();
  const conns = [];
  await Promise.all(Array.from({ length: connections }, async () => {
    try {
      const conn = await open();
      record(await oneRequest(conn, requestBytes()));
      conns.push(conn);
    } catch (e) {
      failed(e);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  console.log(`IDLE ${conns.length}`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.once("end", r));
  for (const c of conns) c.s.destroy();
  return seconds;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(3));
}

const seconds = args.mode === "hosts"
  ? await runHosts()
  : args.mode === "idle"
  ? await runIdle()
  : await runTimed(args.mode === "newconn" ? newconnWorker : keepaliveWorker);
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({
  mode: args.mode,
  target: args.target,
  connections,
  requests,
  answered,
  errors,
  seconds: Number(seconds.toFixed(3)),
  rps: Number((requests / seconds).toFixed(1)),
  p50: percentile(latencies, 0.5),
  p90: percentile(latencies, 0.9),
  p99: percentile(latencies, 0.99),
  ...(firstError ? { firstError } : {}),
}));
process.exit(0);
