/**
 * SO_ORIGINAL_DST for real: curl in the client namespace asks the origin (a non-standard port,
 * IPv4 and IPv6); the router's iptables REDIRECT sends it to a listener there that prints the
 * original destination and relays to it. Runs the listener with this runtime's own sockets and
 * with node:net.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import {
  ADDR,
  createTopology,
  netnsUnavailable,
  nsRun,
  nsSpawn,
  runtimeCommand,
  waitForLine,
} from "./helpers.ts";

const skip = netnsUnavailable() ?? false;
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const PROXY_PORT = 8080;
const ORIGIN_PORT = 8765;

function stop(child: ChildProcess | undefined) {
  if (child && child.exitCode === null) child.kill("SIGKILL");
}

for (const sockets of ["native", "node"]) {
  test(
    `transparent (${sockets} sockets): the original destination of redirected IPv4 and IPv6 connections`,
    {
      skip,
      timeout: 60000,
    },
    async () => {
      const topo = createTopology(PROXY_PORT);
      let origin: ChildProcess | undefined, listener: ChildProcess | undefined;
      try {
        origin = nsSpawn(
          topo.origin,
          runtimeCommand(here("origin_server.ts")).concat(String(ORIGIN_PORT)),
        );
        await waitForLine(origin, /^listening/);
        listener = nsSpawn(
          topo.router,
          runtimeCommand(here("transparent_listener.ts")).concat(
            String(PROXY_PORT),
            sockets === "node" ? "node" : "",
          ),
        );
        await waitForLine(listener, /^listening/);

        const lines: string[] = [];
        listener.stdout!.on(
          "data",
          (d: Uint8Array) => lines.push(...new TextDecoder().decode(d).split("\n").filter(Boolean)),
        );

        for (
          const [host, url] of [[ADDR.origin, `http://${ADDR.origin}:${ORIGIN_PORT}/v4`], [
            ADDR.origin6,
            `http://[${ADDR.origin6}]:${ORIGIN_PORT}/v6`,
          ]]
        ) {
          const r = nsRun(topo.client, ["curl", "-sS", "--max-time", "10", url]);
          assert.ok(r.ok, `curl ${url}: ${r.out}\nlistener: ${lines.join("\n")}`);
          // the origin saw the request arrive at its own address and port: the relay used the
          // original destination
          assert.match(
            r.out,
            new RegExp(`^origin (::ffff:)?${host.replace(/\./g, "\\.")} ${ORIGIN_PORT} /v`),
          );
          // curl ran synchronously: give the listener's output a moment to be read
          const find = () =>
            lines.map((l) => JSON.parse(l)).find((o) => o.dst?.host.endsWith(host));
          for (let i = 0; i < 50 && !find(); i++) await new Promise((r) => setTimeout(r, 100));
          const record = find();
          assert.ok(
            record,
            `listener printed the original destination ${host}: ${lines.join("\n")}`,
          );
          assert.equal(record.dst.port, ORIGIN_PORT);
          assert.equal(
            record.local.port,
            PROXY_PORT,
            "the connection was redirected to the listener",
          );
          assert.equal(record.dst.family, host.includes(":") ? 6 : 4);
        }
      } finally {
        stop(listener);
        stop(origin);
        topo.cleanup();
      }
    },
  );
}

test("cleanup removes the namespaces", { skip }, () => {
  const topo = createTopology(PROXY_PORT);
  const before = nsRun(topo.router, ["true"]);
  assert.ok(before.ok);
  topo.cleanup();
  assert.equal(nsRun(topo.router, ["true"]).ok, false);
});
