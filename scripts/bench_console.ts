/**
 * What the console costs: the proxy's CPU time while it handles a steady 1,000 requests a second,
 * once as `mitm console` in a real terminal (tmux) and once as `mitm -q`, both with --no-web, on
 * Bun and on Deno, rounds alternating so that a noisy spell of the machine hits both.
 *
 *   node_modules/.bin/deno run -A scripts/bench_console.ts [seconds=10] [rounds=3]
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const seconds = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 3);
const RATE = 1000;
const ROOT = new URL("../", import.meta.url).pathname;
const SOCKET = `mitm-bench-console-${process.pid}`;
const confdir = mkdtempSync(join(tmpdir(), "mitm-bench-console-"));
const tick = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

const runtimes: Record<string, string[]> = {
  bun: [`${ROOT}node_modules/.bin/bun`, "--smol", `${ROOT}cli.ts`],
  deno: [`${ROOT}node_modules/.bin/deno`, "run", "-A", `${ROOT}cli.ts`],
};

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / tick; // utime + stime
}

const origin = http.createServer((_req, res) => res.end("x".repeat(512)));
await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
const originPort = (origin.address() as AddressInfo).port;

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/" }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Sends RATE requests a second through the proxy for `seconds`; returns how many answered. */
async function load(proxyPort: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let done = 0;
  const start = Date.now();
  const pending: Promise<void>[] = [];
  for (let sent = 0; sent < RATE * seconds; sent++) {
    const due = start + (sent * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      new Promise<void>((resolve) => {
        const req = http.get({
          host: "127.0.0.1",
          port: proxyPort,
          path: `http://127.0.0.1:${originPort}/item/${sent}`,
          agent,
        }, (res) => {
          res.resume();
          res.on("end", () => {
            done++;
            resolve();
          });
        });
        req.on("error", () => resolve());
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return done;
}

let nextPort = 18500;
async function measure(rt: string, mode: "console" | "quiet"): Promise<[number, number]> {
  const port = nextPort++;
  const args = [...runtimes[rt], ...(mode === "console" ? ["console"] : ["-q"]), "-p", `${port}`];
  args.push("--no-web", "--confdir", confdir);
  let pid: number;
  let stop: () => void;
  if (mode === "console") {
    const line = "exec " + args.map((a) => `'${a}'`).join(" ");
    execFileSync("tmux", [
      "-L",
      SOCKET,
      "new-session",
      "-d",
      "-s",
      "b",
      "-x",
      "120",
      "-y",
      "40",
      line,
    ]);
    pid = Number(
      execFileSync("tmux", ["-L", SOCKET, "display-message", "-p", "-t", "b", "#{pane_pid}"], {
        encoding: "utf8",
      }).trim(),
    );
    stop = () => execFileSync("tmux", ["-L", SOCKET, "kill-server"]);
  } else {
    const child = spawn(args[0], args.slice(1), { stdio: "ignore" });
    pid = child.pid!;
    stop = () => child.kill("SIGTERM");
  }
  await waitPort(port);
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const answered = await load(port);
  const cpu = cpuSeconds(pid) - cpu0;
  const wall = (Date.now() - t0) / 1000;
  stop();
  await new Promise((r) => setTimeout(r, 500));
  return [cpu / wall, answered];
}

console.log(`# mitm console vs -q at ${RATE} req/s for ${seconds} s, ${rounds} rounds`);
console.log("runtime | mode | proxy CPU (share of one core), per round | answered");
for (const rt of ["bun", "deno"]) {
  const results: Record<string, number[]> = { console: [], quiet: [] };
  let answered = "";
  for (let r = 0; r < rounds; r++) {
    const order: ("quiet" | "console")[] = r % 2 === 0
      ? ["quiet", "console"]
      : ["console", "quiet"];
    for (const mode of order) {
      const [cpu, n] = await measure(rt, mode);
      results[mode].push(cpu);
      answered += ` ${mode}:${n}`;
    }
  }
  for (const mode of ["quiet", "console"]) {
    const sorted = [...results[mode]].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `${rt} | ${mode === "quiet" ? "-q" : "console"} | median ${(median * 100).toFixed(1)} % ` +
        `(${results[mode].map((c) => (c * 100).toFixed(1)).join(", ")})`,
    );
  }
  console.log(`${rt} answered:${answered}`);
}
origin.close();
rmSync(confdir, { recursive: true, force: true });
process.exit(0);
