/**
 * The proxies compared: mitm.ts on Deno, on Bun, as the compiled binary, and mitmproxy,
 * http-mitm-proxy and mockttp. Each starts on a free port with a fresh confdir, does not verify
 * the bench origin's self-signed certificate, and prints nothing per flow.
 */
import fs from "node:fs";
import path from "node:path";
import { BUN_FLAGS, bunCompileArgs } from "../bun_compile.ts";
import { freePort, have, run, type Service, startService } from "./util.ts";

export interface RunningProxy {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface ProxySpec {
  /** Short key used in JSON and on the command line (--proxies). */
  readonly key: string;
  readonly label: string;
  /** mitm.ts itself (vs. a peer it is compared with). */
  readonly ours: boolean;
  /** Version string, or why it cannot run here. */
  prepare(): Promise<{ version: string } | { missing: string }>;
  /** `scripts`: addon files to load (mitm.ts only). */
  start(dir: string, scripts?: string[]): Promise<RunningProxy>;
}

const ROOT = path.resolve(import.meta.dirname!, "..", "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const PEERS = path.join(ROOT, ".bench", "peers");
const COMPILED = path.join(ROOT, "dist", "mitm-bench");

async function mitmArgs(port: number, dir: string, scripts: string[]): Promise<string[]> {
  const args = ["-p", String(port), "--confdir", dir, "-q", "-k"];
  // Like mitmdump: no web UI (it keeps flows in memory), when this build has one.
  if (await webUiFlag()) args.push("--no-web");
  for (const s of scripts) args.push("-s", s);
  return args;
}

let webUi: Promise<boolean> | null = null;
function webUiFlag(): Promise<boolean> {
  webUi ??= run(path.join(BIN, "bun"), [path.join(ROOT, "cli.ts"), "--help"]).then((r) =>
    r.stdout.includes("--no-web")
  );
  return webUi;
}

function startMitm(cmd: string, pre: string[], cwd = ROOT) {
  return async (dir: string, scripts: string[] = []): Promise<RunningProxy> => {
    const port = await freePort();
    const s = await startService(cmd, [...pre, ...(await mitmArgs(port, dir, scripts))], {
      port,
    }, { cwd });
    return running(s, port);
  };
}

function running(s: Service, port: number): RunningProxy {
  return { url: `http://127.0.0.1:${port}`, pid: s.pid, stop: () => s.stop() };
}

async function versionOf(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  return (r.stdout || r.stderr).trim().split("\n")[0];
}

const DENO: Pick<ProxySpec, "prepare"> = {
  prepare: async () => ({ version: await versionOf(path.join(BIN, "deno"), ["--version"]) }),
};
const BUN: Pick<ProxySpec, "prepare"> = {
  prepare: async () => ({
    version: `bun ${await versionOf(path.join(BIN, "bun"), ["--version"])}`,
  }),
};
let compiled: Promise<{ version: string } | { missing: string }> | null = null;
const BINARY: Pick<ProxySpec, "prepare"> = {
  // Built once per run.
  prepare: () =>
    compiled ??= (async () => {
      // deno compile cannot run on this machine (docs/RUNTIME.md): the binary is Bun's.
      fs.mkdirSync(path.dirname(COMPILED), { recursive: true });
      const build = bunCompileArgs(path.join(ROOT, "cli.ts"), COMPILED);
      const r = await run(path.join(BIN, "bun"), build, { timeoutMs: 300_000 });
      if (r.code !== 0) return { missing: `bun build --compile failed: ${r.stderr.slice(-300)}` };
      return { version: "bun build --compile" };
    })(),
};

/** mitm.ts on Deno, Bun and as the binary. */
function ours(): ProxySpec[] {
  return [
    {
      key: "mitmts-deno",
      label: "mitm.ts (Deno)",
      ours: true,
      ...DENO,
      start: startMitm(path.join(BIN, "deno"), ["run", "-A", path.join(ROOT, "cli.ts")]),
    },
    {
      key: "mitmts-bun",
      label: "mitm.ts (Bun)",
      ours: true,
      ...BUN,
      // = npm start
      start: startMitm(path.join(BIN, "bun"), [...BUN_FLAGS, path.join(ROOT, "cli.ts")]),
    },
    {
      key: "mitmts-binary",
      label: "mitm.ts (binary)",
      ours: true,
      ...BINARY,
      start: startMitm(COMPILED, []),
    },
  ];
}

/**
 * mitm.ts on Bun from another checkout (`--compare DIR`), e.g. an older commit in a worktree, so
 * that both run side by side, round after round, on the same origins in one run. Its own
 * dependencies are used (DIR/node_modules); the environment (MITM_* variables) is passed on.
 */
export function compareSpec(dir: string): ProxySpec {
  const root = path.resolve(dir);
  const commit = run("git", ["-C", root, "rev-parse", "--short", "HEAD"]);
  return {
    key: "mitmts-bun-compare",
    label: `mitm.ts (Bun) at ${path.basename(root)}`,
    ours: true,
    prepare: async () => ({ version: `${path.basename(root)} ${(await commit).stdout.trim()}` }),
    start: startMitm(path.join(BIN, "bun"), [...BUN_FLAGS, path.join(root, "cli.ts")], root),
  };
}

/** The default set: mitm.ts, then the peers. */
export const PROXIES: ProxySpec[] = [
  ...ours(),
  {
    key: "mitmproxy",
    label: "mitmproxy",
    ours: false,
    async prepare() {
      if (!(await have("mitmdump"))) {
        return { missing: "mitmdump not installed (apt-get install mitmproxy)" };
      }
      return {
        version: (await versionOf("mitmdump", ["--version"])).replace(
          /^Mitmproxy:\s*/,
          "mitmproxy ",
        ),
      };
    },
    async start(dir) {
      const port = await freePort();
      const s = await startService("mitmdump", [
        "--listen-host",
        "127.0.0.1",
        "-p",
        String(port),
        "--set",
        `confdir=${dir}`,
        "--ssl-insecure",
        "--set",
        "stream_large_bodies=1m",
        "-q",
      ], { port }); // deno-fmt-ignore
      return running(s, port);
    },
  },
  peer("http-mitm-proxy", "http-mitm-proxy", "http_mitm_proxy.mjs"),
  peer("mockttp", "mockttp", "mockttp.mjs"),
];

/** A Node proxy from npm, installed on first use into .bench/peers (not a project dependency). */
function peer(key: string, pkg: string, starter: string): ProxySpec {
  return {
    key,
    label: pkg,
    ours: false,
    async prepare() {
      const installed = path.join(PEERS, "node_modules", pkg, "package.json");
      if (!fs.existsSync(installed)) {
        fs.mkdirSync(PEERS, { recursive: true });
        if (!fs.existsSync(path.join(PEERS, "package.json"))) {
          fs.writeFileSync(path.join(PEERS, "package.json"), '{ "private": true }\n');
        }
        const r = await run("npm", [
          "install",
          "--prefix",
          PEERS,
          "--no-audit",
          "--no-fund",
          "http-mitm-proxy@1.1.0",
          "mockttp@4.6.5",
        ], { timeoutMs: 300_000 }); // deno-fmt-ignore
        if (r.code !== 0) return { missing: `npm install failed: ${r.stderr.slice(-300)}` };
      }
      const version = JSON.parse(fs.readFileSync(installed, "utf8")).version;
      return { version: `${pkg} ${version} on Node ${await versionOf("node", ["--version"])}` };
    },
    async start(dir) {
      const port = await freePort();
      const s = await startService("node", [
        path.join(import.meta.dirname!, "peers", starter),
        String(port),
        dir,
        path.join(PEERS, "node_modules"),
      ], { line: /READY/ }); // deno-fmt-ignore
      return running(s, port);
    },
  };
}
