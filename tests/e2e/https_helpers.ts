/**
 * Helpers for the HTTPS end-to-end tests: origin certificates made with the openssl command line,
 * node:https origins on 127.0.0.1, the proxy in-process with its log captured, openssl s_client
 * through the proxy, CONNECT tunnels with a node:tls client on top, and certificate parsing.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { createLogger, type Options, type ProxyServer, startProxy } from "../../mod.ts";
import { parsePem } from "../../src/ca/mod.ts";
import { x509 } from "../../src/ca/x509.ts";
import { testCa } from "../fixtures/ca.ts";
import { type TempDir, tempDir as newTempDir } from "../fixtures/temp_dir.ts";
import {
  connect,
  curl,
  listenLocal,
  type LocalServer,
  readUntil,
  run,
  type RunResult,
} from "./helpers.ts";

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = "mitm-https-"): TempDir {
  return newTempDir(prefix);
}

/** Runs openssl and fails loudly if it does. */
export async function openssl(args: string[], input?: string): Promise<RunResult> {
  const r = await run("openssl", args, { timeoutMs: 30_000, input });
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

export interface OriginCert {
  /** Files: the certificate, its key, and the CA certificate to trust (the cert itself if self-signed). */
  certFile: string;
  keyFile: string;
  caFile: string;
  certPem: string;
  keyPem: string;
  caPem: string;
  /** The certificate in DER. */
  certDer: Uint8Array;
}

function sanList(names: readonly string[]): string {
  return names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
}

/**
 * A server certificate for `names` (the first one is also the CN), EC P-256, made by openssl in
 * `dir`: issued by a fresh "origin CA" of its own, or self-signed.
 */
export async function makeOriginCert(
  dir: string,
  names: readonly string[],
  options: { selfSigned?: boolean; prefix?: string } = {},
): Promise<OriginCert> {
  const p = (f: string) => join(dir, `${options.prefix ?? "origin"}-${f}`);
  const ext = p("ext.cnf");
  writeFileSync(
    ext,
    `subjectAltName=${sanList(names)}\nextendedKeyUsage=serverAuth\n` +
      `basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n`,
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  if (options.selfSigned) {
    await openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      p("key.pem"),
      "-out",
      p("cert.pem"),
      "-days",
      "30",
      "-subj",
      `/CN=${names[0]}`,
      "-addext",
      `subjectAltName=${sanList(names)}`,
      "-addext",
      "extendedKeyUsage=serverAuth",
    ]);
  } else {
    await openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      p("ca-key.pem"),
      "-out",
      p("ca.pem"),
      "-days",
      "30",
      "-subj",
      "/CN=Origin Test CA/O=mitm.ts tests",
      "-addext",
      "basicConstraints=critical,CA:true",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await openssl([
      "req",
      "-new",
      ...ec,
      "-keyout",
      p("key.pem"),
      "-out",
      p("req.csr"),
      "-subj",
      `/CN=${names[0]}`,
    ]);
    await openssl([
      "x509",
      "-req",
      "-in",
      p("req.csr"),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca-key.pem"),
      "-set_serial",
      String(Date.now()),
      "-days",
      "30",
      "-extfile",
      ext,
      "-out",
      p("cert.pem"),
    ]);
  }
  const certFile = p("cert.pem");
  const caFile = options.selfSigned ? certFile : p("ca.pem");
  const certPem = readFileSync(certFile, "utf8");
  return {
    certFile,
    keyFile: p("key.pem"),
    caFile,
    certPem,
    keyPem: readFileSync(p("key.pem"), "utf8"),
    caPem: readFileSync(caFile, "utf8"),
    certDer: pemToDer(certPem),
  };
}

export function pemToDer(pem: string): Uint8Array {
  const block = parsePem(pem).find((b) => b.label === "CERTIFICATE");
  if (!block) throw new Error("no certificate in PEM");
  return block.der;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface HttpsOrigin {
  port: number;
  /** "METHOD URL" of every request received. */
  requests: string[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A node:https origin on 127.0.0.1 with `cert`. By default it answers every request with
 * "hello from the origin: METHOD URL (Host: ...)".
 */
export async function httpsOrigin(
  cert: OriginCert,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<HttpsOrigin> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (handler) return handler(req, res);
    res.setHeader("Content-Type", "text/plain");
    res.end(`hello from the origin: ${req.method} ${req.url} (Host: ${req.headers.host})`);
  });
  server.on("connection", (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    connections: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A plain node:http origin on 127.0.0.1 answering "plain origin: METHOD URL". */
export function httpOrigin(): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    res.setHeader("Content-Type", "text/plain");
    res.end(`plain origin: ${req.method} ${req.url}`);
  });
  return listenLocal(server);
}

/** The proxy in-process (shared test CA), with every log line kept. */
export async function withProxy(
  options: Partial<Options>,
  fn: (proxy: ProxyServer, log: string[]) => Promise<void>,
): Promise<void> {
  const log: string[] = [];
  const proxy = await startProxy(
    { listen_port: 0, ...options },
    { ca: await testCa(), log: createLogger("debug", (_level, m) => log.push(m)) },
  );
  try {
    await fn(proxy, log);
  } finally {
    await proxy.close();
  }
}

/** The shared test CA's certificate file (what clients trust). */
export async function testCaFile(): Promise<string> {
  return (await testCa()).certPemFile;
}

/** curl through `proxyUrl`, never bypassing it for localhost (whatever NO_PROXY says). */
export function curlVia(proxyUrl: string, args: string[]): Promise<RunResult> {
  return curl(["--noproxy", "", "-x", proxyUrl, "--max-time", "30", ...args], 40_000);
}

export interface SClientResult {
  output: string;
  /** The PEM certificates the server presented, leaf first. */
  certs: string[];
  /** The number after "Verify return code:". */
  verifyCode: number | null;
  verifyText: string;
}

/**
 * openssl s_client through the proxy with CONNECT to `connect` (host:port); `servername` null sends
 * no SNI. `send` is written after the handshake, and the output is read until the server closes;
 * without it s_client ends after the handshake.
 */
export async function sClient(options: {
  proxyPort: number;
  connect: string;
  servername: string | null;
  caFile: string;
  send?: string;
}): Promise<SClientResult> {
  const args = [
    "s_client",
    "-proxy",
    `127.0.0.1:${options.proxyPort}`,
    "-connect",
    options.connect,
    ...(options.servername === null ? ["-noservername"] : ["-servername", options.servername]),
    "-CAfile",
    options.caFile,
    "-showcerts",
    // With a request to send, read until the server closes (send "Connection: close").
    ...(options.send ? ["-ign_eof"] : []),
  ];
  const r = await run("openssl", args, { timeoutMs: 30_000, input: options.send ?? "" });
  const output = r.stdout + r.stderr;
  const certs = [
    ...output.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g),
  ]
    .map((m) => m[0] + "\n");
  const v = /Verify return code: (\d+) \(([^)]*)\)/.exec(output);
  return {
    output,
    certs,
    verifyCode: v ? Number(v[1]) : null,
    verifyText: v ? v[2] : "",
  };
}

export interface CertInfo {
  cert: x509.X509Certificate;
  subjectCn: string | null;
  issuer: string;
  subject: string;
  dnsNames: string[];
  ipNames: string[];
  extendedKeyUsages: string[];
  isCa: boolean;
  der: Uint8Array;
}

/** Parses a PEM or DER certificate with @peculiar/x509. */
export function certInfo(pemOrDer: string | Uint8Array): CertInfo {
  const der = typeof pemOrDer === "string" ? pemToDer(pemOrDer) : pemOrDer;
  const cert = new x509.X509Certificate(new Uint8Array(der));
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const items = san ? san.names.items : [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const cn = /(?:^|, )CN=([^,]+)/.exec(cert.subject);
  return {
    cert,
    subjectCn: cn ? cn[1] : null,
    issuer: cert.issuer,
    subject: cert.subject,
    dnsNames: items.filter((n) => n.type === "dns").map((n) => n.value),
    ipNames: items.filter((n) => n.type === "ip").map((n) => n.value),
    extendedKeyUsages: eku ? eku.usages.map(String) : [],
    isCa: bc?.ca ?? false,
    der,
  };
}

/** Whether `leaf` carries a valid signature by the CA certificate `caPem`. */
export async function signedBy(leaf: CertInfo, caPem: string): Promise<boolean> {
  const ca = new x509.X509Certificate(new Uint8Array(pemToDer(caPem)));
  return await leaf.cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
}

export const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

/** Opens a CONNECT tunnel through the proxy; resolves with the socket once "200" arrived. */
export async function connectThrough(proxyPort: number, authority: string): Promise<net.Socket> {
  const s = await connect(proxyPort);
  s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const head = await readUntil(s, (b) => b.includes("\r\n\r\n"));
  const text = head.toString("latin1");
  if (!/^HTTP\/1\.1 200 /.test(text)) {
    s.destroy();
    throw new Error(`CONNECT ${authority} answered: ${text}`);
  }
  if (head.length !== head.indexOf("\r\n\r\n") + 4) throw new Error("bytes after the 200 head");
  return s;
}

/**
 * A node:tls client over a CONNECT tunnel to `authority` with SNI `servername`, trusting `caPem`;
 * sends one GET with `Connection: close` and resolves with the certificate and response.
 */
export async function tlsGetThrough(
  proxyPort: number,
  authority: string,
  servername: string,
  caPem: string,
  path = "/",
): Promise<{ certDer: Uint8Array; response: string }> {
  const raw = await connectThrough(proxyPort, authority);
  const socket = tls.connect({ socket: raw, servername, ca: caPem, ALPNProtocols: ["http/1.1"] });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    });
    const certDer = new Uint8Array(socket.getPeerCertificate().raw);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no response within 20 s")), 20_000);
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.once("end", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    return { certDer, response: Buffer.concat(chunks).toString("latin1") };
  } finally {
    socket.destroy();
    raw.destroy();
  }
}

/** Polls `check` every 20 ms until it is true or `ms` passed; returns its last value. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
