/**
 * 1 GiB through the proxy over HTTP/2, as tests/e2e/streaming_h2_test.ts does it, one transfer per
 * fresh proxy process (run on the runtime that runs this script): MB/s and peak RSS (VmHWM).
 *
 *   deno run -A scripts/bench_h2_transfer.ts [--kinds down,up] [--client h2|h1] [--origin h2|h1]
 *                                            [--plain] [--rounds N]
 *   bun scripts/bench_h2_transfer.ts ...
 *
 * Default: curl speaks h2c to the proxy in reverse mode, the proxy h2 over TLS to a Node origin
 * (the test's). `--client h1`: curl speaks HTTP/1.1. `--origin h1`: the origin speaks HTTP/1.1.
 * `--plain`: the origin listens without TLS (h2c; the proxy speaks h2c to plain origins only for
 * gRPC, so curl then sends content-type application/grpc). docs/BENCHMARKS.md, "HTTP/2", has the
 * numbers.
 */
import { spawn } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { CertificateAuthority } from "../src/ca/mod.ts";
import { curl, readUntil, startProxyProcess } from "../tests/e2e/helpers.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    kinds: { type: "string", default: "down,up" },
    client: { type: "string", default: "h2" },
    origin: { type: "string", default: "h2" },
    plain: { type: "boolean", default: false },
    rounds: { type: "string", default: "1" },
  },
});

const GIB = 1024 * 1024 * 1024;

/** Both origins stream `SIZE` zero bytes for GET honouring backpressure; PUT answers the count. */
const H2_ORIGIN = `
const http2 = require("node:http2");
const [cert, key, size] = [process.env.CERT, process.env.KEY, Number(process.env.SIZE)];
const server = process.env.PLAIN ? http2.createServer() : http2.createSecureServer({ cert, key });
const chunk = Buffer.alloc(256 * 1024);
server.on("stream", async (stream, headers) => {
  stream.on("error", () => {});
  if (headers[":method"] === "PUT") {
    let n = 0;
    for await (const d of stream) n += d.length;
    stream.respond({ ":status": 200 });
    stream.end(String(n));
    return;
  }
  stream.resume();
  stream.respond({ ":status": 200, "content-length": String(size) });
  for (let sent = 0; sent < size; sent += chunk.length) {
    if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
  }
  stream.end();
});
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

const H1_ORIGIN = `
const [cert, key, size] = [process.env.CERT, process.env.KEY, Number(process.env.SIZE)];
const handler = async (req, res) => {
  req.on("error", () => {});
  if (req.method === "PUT") {
    let n = 0;
    for await (const d of req) n += d.length;
    res.end(String(n));
    return;
  }
  const chunk = Buffer.alloc(256 * 1024);
  res.writeHead(200, { "content-length": String(size) });
  for (let sent = 0; sent < size; sent += chunk.length) {
    if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
  }
  res.end();
};
const server = process.env.PLAIN
  ? require("node:http").createServer(handler)
  : require("node:https").createServer({ cert, key }, handler);
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

const dir = mkdtempSync(join(tmpdir(), "mitm-h2-transfer-"));
const { ca } = await CertificateAuthority.create();
const leaf = await ca.issue(["127.0.0.1"]);
const script = join(dir, "origin.cjs");
writeFileSync(script, args.origin === "h1" ? H1_ORIGIN : H2_ORIGIN);
const origin = spawn("node", [script], {
  env: {
    ...process.env,
    CERT: leaf.certPem,
    KEY: leaf.keyPem,
    SIZE: String(GIB),
    ...(args.plain ? { PLAIN: "1" } : {}),
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const file = join(dir, "1gib.bin");
const fd = openSync(file, "w");
ftruncateSync(fd, GIB); // sparse: 1 GiB of zeros without 1 GiB of disk
closeSync(fd);

try {
  const out = await readUntil(origin.stdout as never, (b) => /port \d+/.test(String(b)), 30_000);
  const port = Number(/port (\d+)/.exec(String(out))![1]);
  const target = `${args.plain ? "http" : "https"}://127.0.0.1:${port}`;
  const clientArgs = [
    args.client === "h1" ? "--http1.1" : "--http2-prior-knowledge",
    ...(args.plain && args.client !== "h1" ? ["-H", "content-type: application/grpc"] : []),
  ];
  console.log(
    `${process.versions.bun ? "bun" : "deno"}: client ${args.client}, origin ${args.origin}` +
      ` over ${args.plain ? "plain TCP" : "TLS"}`,
  );
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const kind of args.kinds.split(",")) {
      const proxy = await startProxyProcess([
        "--mode",
        `reverse:${target}`,
        "--set",
        "ssl_insecure=true",
      ]);
      try {
        const url = `${proxy.url}/big`;
        const started = performance.now();
        const r = await curl(
          kind === "down"
            ? [...clientArgs, "-o", "/dev/null", "-w", "%{size_download}", url]
            : [...clientArgs, "-T", file, url],
          600_000,
        );
        const seconds = (performance.now() - started) / 1000;
        const ok = r.code === 0 && r.stdout.trim() === String(GIB);
        console.log(
          `${kind}: ${ok ? "" : `FAILED (${(r.stdout + r.stderr).trim()}) `}` +
            `${(GIB / 1e6 / seconds).toFixed(0)} MB/s, peak RSS ` +
            `${(proxy.peakRss() / 1e6).toFixed(1)} MB`,
        );
      } finally {
        await proxy.stop();
      }
    }
  }
} finally {
  origin.kill();
  rmSync(dir, { recursive: true, force: true });
}
// The origin's pipe can keep the event loop alive after kill() on some runtimes.
process.exit(0);
