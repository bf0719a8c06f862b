/**
 * Network namespaces for transparent-mode tests (Linux, as root): three namespaces joined by veth
 * pairs, the client's default route through the router, forwarding on in the router, and an
 * iptables REDIRECT of all TCP arriving at the router to the proxy's port.
 *
 *   client (10.77.1.2, fd77:1::2) -- (10.77.1.1, fd77:1::1) router (10.77.2.1, fd77:2::1) -- origin (10.77.2.2, fd77:2::2)
 *
 * Addresses live inside the namespaces, so parallel runs do not clash; only namespace names must
 * be unique, and they get a random suffix. cleanup() deletes the namespaces (their veths go with
 * them); it is also run at process exit in case a test forgot.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import process from "node:process";
import { atExit } from "../fixtures/at_exit.ts";

export const ADDR = {
  client: "10.77.1.2",
  routerClientSide: "10.77.1.1",
  routerOriginSide: "10.77.2.1",
  origin: "10.77.2.2",
  client6: "fd77:1::2",
  routerClientSide6: "fd77:1::1",
  routerOriginSide6: "fd77:2::1",
  origin6: "fd77:2::2",
};

export interface Topology {
  client: string;
  router: string;
  origin: string;
  /** Which iptables command worked ("iptables" with nft, or "iptables-legacy"). */
  iptables: string;
  cleanup(): void;
}

function run(cmd: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", input });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error?.message ?? ""}` };
}

function must(cmd: string[]): string {
  const r = run(cmd);
  if (!r.ok) throw new Error(`${cmd.join(" ")} failed: ${r.out.trim()}`);
  return r.out;
}

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return "network namespaces need root (run the tests as root)";
  }
  if (!run(["ip", "-V"]).ok) return "the ip command (iproute2) is not installed";
  if (!run(["iptables", "--version"]).ok && !run(["iptables-legacy", "--version"]).ok) {
    return "iptables is not installed (apt-get install iptables)";
  }
  const probe = `mtprobe${Math.random().toString(16).slice(2, 8)}`;
  const made = run(["ip", "netns", "add", probe]);
  if (!made.ok) return `ip netns add failed: ${made.out.trim()}`;
  run(["ip", "netns", "del", probe]);
  return null;
}

const live = new Set<string>();
atExit(() => {
  for (const ns of live) run(["ip", "netns", "del", ns]);
});

/** Runs a command inside a namespace and waits for it. */
export function nsRun(ns: string, cmd: string[]): { ok: boolean; out: string } {
  return run(["ip", "netns", "exec", ns, ...cmd]);
}

/** Starts a long-running command inside a namespace. */
export function nsSpawn(ns: string, cmd: string[]): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Builds client/router/origin with a REDIRECT of TCP (IPv4 and IPv6) arriving at the router to
 * `proxyPort`. Throws (after cleaning up) if any step fails.
 */
export function createTopology(proxyPort: number): Topology {
  const id = Math.random().toString(16).slice(2, 8);
  const client = `mt${id}c`, router = `mt${id}r`, origin = `mt${id}o`;
  const cleanup = () => {
    for (const ns of [client, router, origin]) {
      if (live.delete(ns)) run(["ip", "netns", "del", ns]);
    }
  };
  try {
    for (const ns of [client, router, origin]) {
      must(["ip", "netns", "add", ns]);
      live.add(ns);
      must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    must([
      "ip",
      "link",
      "add",
      "veth0",
      "netns",
      client,
      "type",
      "veth",
      "peer",
      "name",
      "vcli",
      "netns",
      router,
    ]);
    must([
      "ip",
      "link",
      "add",
      "veth0",
      "netns",
      origin,
      "type",
      "veth",
      "peer",
      "name",
      "vori",
      "netns",
      router,
    ]);
    const addr = (ns: string, dev: string, a: string, a6: string) => {
      must(["ip", "-n", ns, "addr", "add", `${a}/24`, "dev", dev]);
      must(["ip", "-n", ns, "-6", "addr", "add", `${a6}/64`, "dev", dev, "nodad"]);
      must(["ip", "-n", ns, "link", "set", dev, "up"]);
    };
    addr(client, "veth0", ADDR.client, ADDR.client6);
    addr(router, "vcli", ADDR.routerClientSide, ADDR.routerClientSide6);
    addr(router, "vori", ADDR.routerOriginSide, ADDR.routerOriginSide6);
    addr(origin, "veth0", ADDR.origin, ADDR.origin6);
    must(["ip", "-n", client, "route", "add", "default", "via", ADDR.routerClientSide]);
    must(["ip", "-n", client, "-6", "route", "add", "default", "via", ADDR.routerClientSide6]);
    must(["ip", "-n", origin, "route", "add", "default", "via", ADDR.routerOriginSide]);
    must(["ip", "-n", origin, "-6", "route", "add", "default", "via", ADDR.routerOriginSide6]);
    must(["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    must(["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    // Only what comes in from the client side is redirected: the proxy's own connections to the
    // origin leave through the other interface and must not loop back to it.
    const rule = [
      "-t",
      "nat",
      "-A",
      "PREROUTING",
      "-i",
      "vcli",
      "-p",
      "tcp",
      "-j",
      "REDIRECT",
      "--to-ports",
      String(proxyPort),
    ];
    let iptables = "iptables";
    if (!nsRun(router, ["iptables", ...rule]).ok) {
      iptables = "iptables-legacy";
      must(["ip", "netns", "exec", router, "iptables-legacy", ...rule]);
    }
    must([
      "ip",
      "netns",
      "exec",
      router,
      iptables === "iptables" ? "ip6tables" : "ip6tables-legacy",
      ...rule,
    ]);
    return { client, router, origin, iptables, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Resolves with the first stdout line matching `pattern` (or rejects after `ms`). */
export function waitForLine(child: ChildProcess, pattern: RegExp, ms = 15000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; got: ${seen}`)),
      ms,
    );
    const on = (d: Uint8Array) => {
      seen += new TextDecoder().decode(d);
      const line = seen.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stdout!.off("data", on);
        resolve(line);
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", (d: Uint8Array) => (seen += new TextDecoder().decode(d)));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; output: ${seen}`));
    });
  });
}

/** The command that runs a TypeScript file with the runtime running the tests. */
export function runtimeCommand(script: string): string[] {
  const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  return isBun ? [process.execPath, script] : [process.execPath, "run", "-A", script];
}
