/**
 * dialOrigin as pure code over the in-memory network: a name is looked up (DNS times set), then
 * its addresses are tried in turn when one refuses; an IP address, or a network that cannot
 * resolve, dials at once without DNS times; lookup failures and timeouts are NetErrors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../../src/proxy/core/connection.ts";
import { dialOrigin } from "../../src/proxy/driver/dial.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import { NetError } from "../../src/runtime/types.ts";

/** A memory network whose names resolve as `names` says (absent: a DNS failure). */
function resolvingNetwork(names: Record<string, string[]>, lookups: string[] = []) {
  const net = new MemoryNetwork();
  return Object.assign(net, {
    resolve(host: string): Promise<string[]> {
      lookups.push(host);
      const found = names[host];
      return found
        ? Promise.resolve(found)
        : Promise.reject(new NetError("dns", "DNS lookup failed"));
    },
  });
}

test("a name is looked up, then its addresses tried in turn until one accepts", async () => {
  const net = resolvingNetwork({ "origin.test": ["10.0.0.1", "10.0.0.2"] });
  const listener = await net.listen({ host: "10.0.0.2", port: 80 }, (c) => c.close());
  const server = new Server({ host: "origin.test", port: 80 });
  const conn = await dialOrigin(net, server, "origin.test", 80, 5_000);
  assert.equal(conn.remote.host, "10.0.0.2", "the first address refused; the second answered");
  assert.equal(typeof server.timestampDnsStart, "number");
  assert.ok(server.timestampDnsEnd! >= server.timestampDnsStart!);
  assert.ok(server.timestampTcpStart! >= server.timestampDnsEnd!);
  conn.close();
  await listener.close();
});

test("an IP address (v4 or v6) is not looked up", async () => {
  const lookups: string[] = [];
  const net = resolvingNetwork({}, lookups);
  for (const host of ["127.0.0.1", "::1"]) {
    const listener = await net.listen({ host, port: 81 }, (c) => c.close());
    const server = new Server({ host, port: 81 });
    (await dialOrigin(net, server, host, 81, 5_000)).close();
    assert.equal(server.timestampDnsStart, null);
    assert.equal(server.timestampDnsEnd, null);
    assert.equal(typeof server.timestampTcpStart, "number");
    await listener.close();
  }
  assert.deepEqual(lookups, []);
});

test("a network without resolve() is given the name", async () => {
  const net = new MemoryNetwork();
  const listener = await net.listen({ host: "origin.test", port: 80 }, (c) => c.close());
  const server = new Server({ host: "origin.test", port: 80 });
  (await dialOrigin(net, server, "origin.test", 80, 5_000)).close();
  assert.equal(server.timestampDnsStart, null);
  await listener.close();
});

test("a failed lookup, every address refusing, and a slow lookup are NetErrors", async () => {
  const net = resolvingNetwork({ "down.test": ["10.0.0.7", "10.0.0.8"] });
  const server = () => new Server({ host: "x", port: 80 });
  await assert.rejects(
    dialOrigin(net, server(), "nowhere.test", 80, 5_000),
    (e) => e instanceof NetError && e.code === "dns" && e.message === "DNS lookup failed",
  );
  await assert.rejects(
    dialOrigin(net, server(), "down.test", 80, 5_000),
    (e) => e instanceof NetError && e.code === "refused",
  );
  const slow = Object.assign(new MemoryNetwork(), {
    resolve: () => new Promise<string[]>(() => {}),
  });
  await assert.rejects(
    dialOrigin(slow, server(), "slow.test", 80, 50),
    (e) => e instanceof NetError && e.code === "timeout" && /DNS lookup timed out/.test(e.message),
  );
});
