/**
 * The bench's origin servers on 127.0.0.1: nginx when installed (static /1k and /big over HTTP
 * and HTTPS, and HTTPS on the spread loopback addresses for the host-name benchmark), and a
 * Node sink for uploads, which also stands in for nginx when it is missing.
 */
import fs from "node:fs";
import path from "node:path";
import { spreadIp } from "./ips.mjs";
import { freePort, have, run, type Service, startService } from "./util.ts";

export interface Origins {
  /** "nginx 1.22.1" or "node sink". */
  readonly kind: string;
  /** http://127.0.0.1:P and https://127.0.0.1:Q, serving /1k and /big. */
  readonly http: string;
  readonly https: string;
  /** Take uploads (PUT): http and https base URLs. */
  readonly uploadHttp: string;
  readonly uploadHttps: string;
  /** How many spread loopback addresses serve HTTPS on the `https` port. */
  readonly hostIps: number;
  /** The sink's PID and nginx's master PID, to show what the origin itself uses. */
  stop(): Promise<void>;
}

/** A P-256 certificate for localhost, valid two days, written into `dir`. */
export async function makeOriginCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, "origin-cert.pem"), key = path.join(dir, "origin-key.pem");
  const made = await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-keyout",
    key,
    "-out",
    cert,
  ]); // deno-fmt-ignore
  if (made.code !== 0) throw new Error(`openssl could not make the origin certificate: ${made.stderr}`);
  return { cert, key };
}

export async function startOrigins(
  dir: string,
  opts: { bigBytes: number; hostIps: number; preferNginx: boolean },
): Promise<Origins> {
  const { cert, key } = await makeOriginCert(dir);
  const ips = Array.from({ length: opts.hostIps }, (_, i) => spreadIp(i));
  const nginx = opts.preferNginx && (await have("nginx"))
    ? await startNginx(dir, cert, key, ips, opts.bigBytes)
    : null;
  const sinkHttp = await freePort(), sinkHttps = await freePort();
  const sink = await startService("node", [
    path.join(import.meta.dirname!, "sink.mjs"),
    "--http-port",
    String(sinkHttp),
    "--https-port",
    String(sinkHttps),
    "--cert",
    cert,
    "--key",
    key,
    "--big-bytes",
    String(opts.bigBytes),
    ...(nginx ? [] : ["--ips", ips.join(",")]),
  ], { line: /READY/ }); // deno-fmt-ignore
  const services: Service[] = [sink];
  if (nginx) services.push(nginx.service);
  return {
    kind: nginx ? nginx.version : "node sink (nginx not installed)",
    http: `http://127.0.0.1:${nginx?.httpPort ?? sinkHttp}`,
    https: `https://127.0.0.1:${nginx?.httpsPort ?? sinkHttps}`,
    uploadHttp: `http://127.0.0.1:${sinkHttp}`,
    uploadHttps: `https://127.0.0.1:${sinkHttps}`,
    hostIps: ips.length,
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
    },
  };
}

async function startNginx(dir: string, cert: string, key: string, ips: string[], bigBytes: number) {
  const root = path.join(dir, "www");
  fs.mkdirSync(path.join(root), { recursive: true });
  // nginx's workers run as an unprivileged user when started as root: they must reach the files.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(root, 0o755);
  fs.writeFileSync(path.join(root, "1k"), Buffer.alloc(1024, "x"), { mode: 0o644 });
  // Sparse: the size of the download without the disk space.
  const fd = fs.openSync(path.join(root, "big"), "w", 0o644);
  fs.ftruncateSync(fd, bigBytes);
  fs.closeSync(fd);
  await warmPageCache(path.join(root, "big"));
  const httpPort = await freePort(), httpsPort = await freePort();
  const conf = path.join(dir, "nginx.conf");
  fs.mkdirSync(path.join(dir, "nginx-tmp"), { recursive: true });
  fs.writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
error_log ${dir}/nginx-error.log;
pid ${dir}/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-tmp;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${httpsPort} ssl;
${ips.map((ip) => `    listen ${ip}:${httpsPort} ssl;`).join("\n")}
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    root ${root};
  }
}
`,
  );
  const version = (await run("nginx", ["-v"])).stderr.trim().replace(/^nginx version: /, "");
  const service = await startService("nginx", ["-c", conf, "-p", dir], { port: httpsPort });
  return { service, httpPort, httpsPort, version: version.replace("/", " ") };
}

/**
 * Reads a file once so that it sits in the page cache: the first read of a fresh 1 GiB file ran at
 * ~300 MB/s here, later ones at over 1.4 GB/s, and whichever proxy went first paid for it.
 */
export async function warmPageCache(file: string): Promise<void> {
  await run("dd", [`if=${file}`, "of=/dev/null", "bs=1M"]);
}
