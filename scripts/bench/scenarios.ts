/**
 * The measurements (a-f of issue 5, plus hooks vs. no addons), each against one proxy. Load comes
 * from wrk (plain HTTP) and scripts/bench/loadgen.mjs (CONNECT + TLS; on Bun by default: on Node
 * its TLS handshakes cost more CPU than the proxy's, so the generator was the bottleneck), curl
 * for bulk transfers; memory from /proc/PID/status. None of them is one of the proxies measured.
 */
import fs from "node:fs";
import path from "node:path";
import { type Origins, warmPageCache } from "./origin.ts";
import type { ProxySpec, RunningProxy } from "./proxies.ts";
import { type LoadgenResult, runLoadgen } from "./loadgen_run.ts";
import { cpuMsOf, have, memoryOf, run, sleep, startService } from "./util.ts";

export interface Settings {
  /** Seconds per throughput measurement. */
  duration: number;
  /** Seconds of load before measuring (loadgen) or a separate warm-up run (wrk). */
  warmup: number;
  /** Alternations of the hooks comparison. */
  hookRounds: number;
  connections: number;
  /** The runtime that runs loadgen.mjs (an executable path). */
  loadgenRuntime: string;
  hosts: number;
  idleConnections: number;
  bigBytes: number;
  origins: Origins;
  /** A fresh directory per call (confdirs, upload file). */
  tempDir(): string;
  log(line: string): void;
}

export type Metrics = Record<string, number | string | null>;

const LOADGEN = path.join(import.meta.dirname!, "loadgen.mjs");
const HOOKS_ADDON = path.join(import.meta.dirname!, "hooks_addon.ts");

async function withProxy<T>(
  spec: ProxySpec,
  s: Settings,
  fn: (p: RunningProxy) => Promise<T>,
  scripts?: string[],
): Promise<T> {
  const proxy = await spec.start(s.tempDir(), scripts);
  try {
    return await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

function loadgen(proxy: RunningProxy, target: string, extra: string[], s: Settings) {
  return runLoadgen(s.loadgenRuntime, proxy, target, [
    "--warmup",
    String(s.warmup),
    ...extra,
  ], (s.duration + 120) * 1000);
}

function throughput(r: LoadgenResult): Metrics {
  return {
    rps: r.rps,
    p50_ms: r.p50,
    p99_ms: r.p99,
    requests: r.requests,
    errors: r.errors,
    proxy_cpu_ms_per_req: r.cpuMsPerRequest ?? null,
    ...(r.firstError ? { first_error: r.firstError.slice(0, 100) } : {}),
  };
}

/** a) plain HTTP keep-alive through the proxy, 1 KiB responses. */
export async function httpKeepalive(spec: ProxySpec, s: Settings): Promise<Metrics> {
  const target = `${s.origins.http}/1k`;
  return await withProxy(spec, s, async (proxy) => {
    if (!(await have("wrk"))) {
      const args = ["--mode", "keepalive", "--connections", String(s.connections)];
      return {
        ...throughput(await loadgen(proxy, target, [...args, "--duration", String(s.duration)], s)),
        tool: "loadgen",
      };
    }
    const lua = path.join(s.tempDir(), "absolute.lua");
    // wrk speaks origin-form to the address it is given: send absolute-form to the proxy.
    fs.writeFileSync(
      lua,
      `wrk.path = "${target}"\nwrk.headers["Host"] = "${new URL(target).host}"\n`,
    );
    const wrk = (seconds: number) =>
      run(
        "wrk",
        ["-t1", `-c${s.connections}`, `-d${seconds}s`, "--latency", "-s", lua, proxy.url],
        {
          timeoutMs: (seconds + 30) * 1000,
        },
      );
    if (s.warmup > 0) await wrk(s.warmup);
    const cpuBefore = cpuMsOf(proxy.pid);
    const r = await wrk(s.duration);
    const cpuAfter = cpuMsOf(proxy.pid);
    const m = parseWrk(r.stdout);
    const n = Number(m.requests);
    const cpu = cpuBefore !== null && cpuAfter !== null && n > 0
      ? Number(((cpuAfter - cpuBefore) / n).toFixed(3))
      : null;
    return { ...m, proxy_cpu_ms_per_req: cpu, tool: "wrk" };
  });
}

function parseWrk(out: string): Metrics {
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (!m) return null;
    const scale = m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1;
    return Number((Number(m[1]) * scale).toFixed(3));
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  if (!Number.isFinite(rps)) throw new Error(`wrk printed no result: ${out.slice(-300)}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const bad = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = bad + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50_ms: ms("50"), p99_ms: ms("99"), requests, errors };
}

/**
 * b) (mode "keepalive") intercepted HTTPS keep-alive: CONNECT + TLS once per connection, then
 * requests; c) (mode "newconn") a new connection per request: CONNECT + TLS (leaf cached) + one
 * request.
 */
export async function httpsLoad(
  spec: ProxySpec,
  s: Settings,
  mode: "keepalive" | "newconn",
  scripts?: string[],
): Promise<Metrics> {
  const args = ["--mode", mode, "--connections", String(s.connections)];
  return await withProxy(
    spec,
    s,
    async (proxy) =>
      throughput(
        await loadgen(
          proxy,
          `${s.origins.https}/1k`,
          [...args, "--duration", String(s.duration)],
          s,
        ),
      ),
    scripts,
  );
}

/** d) first contact with N host names: a leaf issued for each, on the hot path. */
export async function manyHosts(spec: ProxySpec, s: Settings): Promise<Metrics> {
  return await withProxy(spec, s, async (proxy) => {
    const r = await loadgen(proxy, `${s.origins.https}/1k`, [
      "--mode",
      "hosts",
      "--hosts",
      String(s.hosts),
      "--connections",
      String(s.connections),
      ...(s.origins.hostIps >= s.hosts ? ["--spread-ips"] : []),
    ], s); // deno-fmt-ignore
    return {
      seconds: r.seconds,
      hosts_per_s: r.rps,
      p50_ms: r.p50,
      p99_ms: r.p99,
      errors: r.errors,
      ...(r.firstError ? { first_error: r.firstError.slice(0, 100) } : {}),
    };
  });
}

let upload: Promise<string> | null = null;

/** One sparse file of s.bigBytes for every upload, read once so that it is in the page cache. */
function uploadFile(s: Settings): Promise<string> {
  upload ??= (async () => {
    const file = path.join(s.tempDir(), "upload.bin");
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, s.bigBytes);
    fs.closeSync(fd);
    await warmPageCache(file);
    return file;
  })();
  return upload;
}

/** e) one bulk transfer through a fresh proxy: MB/s (10^6 bytes) and the proxy's peak RSS. */
export async function transfer(
  spec: ProxySpec,
  s: Settings,
  direction: "download" | "upload",
  scheme: "http" | "https",
): Promise<Metrics> {
  return await withProxy(spec, s, async (proxy) => {
    const base = direction === "download"
      ? (scheme === "http" ? s.origins.http : s.origins.https)
      : (scheme === "http" ? s.origins.uploadHttp : s.origins.uploadHttps);
    const args = ["-s", "-k", "--noproxy", "", "-x", proxy.url, "-o", "/dev/null"];
    if (direction === "download") {
      args.push("-w", "%{http_code} %{size_download} %{time_total}", `${base}/big`);
    } else {
      const file = await uploadFile(s);
      args.push("-T", file, "-w", "%{http_code} %{size_upload} %{time_total}", `${base}/up`);
    }
    const idle = memoryOf(proxy.pid)?.rss ?? null;
    const r = await run("curl", args, { timeoutMs: 600_000 });
    const [status, bytes, seconds] = r.stdout.trim().split(" ").map(Number);
    const mem = memoryOf(proxy.pid);
    if (r.code !== 0 || status !== 200 || bytes !== s.bigBytes) {
      throw new Error(
        `curl ${direction} ${scheme}: exit ${r.code}, status ${status}, ${bytes} bytes`,
      );
    }
    return {
      mb_per_s: Number((bytes / seconds / 1e6).toFixed(1)),
      seconds,
      peak_rss_mb: mem ? Number((mem.peak / 1e6).toFixed(1)) : null,
      idle_rss_mb: idle === null ? null : Number((idle / 1e6).toFixed(1)),
    };
  });
}

/** f) N intercepted HTTPS keep-alive connections, one request each, then held open: RSS. */
export async function idleConnections(spec: ProxySpec, s: Settings): Promise<Metrics> {
  return await withProxy(spec, s, async (proxy) => {
    await sleep(500);
    const before = memoryOf(proxy.pid)?.rss ?? 0;
    const gen = await startService(
      "node",
      [
        LOADGEN,
        "--proxy",
        proxy.url,
        "--target",
        `${s.origins.https}/1k`,
        "--mode",
        "idle",
        "--connections",
        String(s.idleConnections),
      ],
      { line: /IDLE \d+/ },
      { timeoutMs: 300_000 },
    ); // deno-fmt-ignore
    try {
      const held = Number(/IDLE (\d+)/.exec(gen.output())![1]);
      await sleep(1000);
      const after = memoryOf(proxy.pid)?.rss ?? 0;
      return {
        held,
        rss_mb: Number((after / 1e6).toFixed(1)),
        before_mb: Number((before / 1e6).toFixed(1)),
        kb_per_conn: held > 0 ? Number(((after - before) / held / 1024).toFixed(1)) : null,
      };
    } finally {
      gen.child.stdin!.end();
      await gen.stop();
    }
  });
}

/**
 * Hooks cost: intercepted HTTPS keep-alive with an addon on request and response vs. none,
 * alternating (five times in a full run) so that drift on a shared machine hits both alike;
 * medians.
 */
export async function hooksCost(spec: ProxySpec, s: Settings): Promise<Metrics> {
  const plain: Metrics[] = [], hooked: Metrics[] = [];
  const short = { ...s, duration: Math.max(1, Math.round(s.duration / 2)) };
  for (let i = 0; i < s.hookRounds; i++) {
    plain.push(await httpsLoad(spec, short, "keepalive"));
    hooked.push(await httpsLoad(spec, short, "keepalive", [HOOKS_ADDON]));
  }
  const median = (runs: Metrics[], key: string) => {
    const xs = runs.map((r) => Number(r[key])).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const a = median(plain, "rps"), b = median(hooked, "rps");
  return {
    rps_no_addons: a,
    rps_with_hooks: b,
    slowdown_pct: Number(((1 - b / a) * 100).toFixed(1)),
    // CPU per request moves less with the machine's load than req/s does: the cost itself.
    cpu_ms_no_addons: median(plain, "proxy_cpu_ms_per_req"),
    cpu_ms_with_hooks: median(hooked, "proxy_cpu_ms_per_req"),
  };
}
