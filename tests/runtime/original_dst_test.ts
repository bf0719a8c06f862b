import { test } from "node:test";
import assert from "node:assert/strict";
import type { Conn, Network } from "../../src/runtime/types.ts";
import { nodeNetwork } from "../../src/runtime/node/net.ts";
import { bunNetwork } from "../../src/runtime/bun/net.ts";
import { denoNetwork } from "../../src/runtime/deno/net.ts";
import {
  decodeSockaddr,
  findSocketFd,
  normalizeHost,
  originalDst,
} from "../../src/runtime/shared/original_dst.ts";
import { runtime } from "../../src/runtime/mod.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/ /g, "").match(/../g)!, (b) => parseInt(b, 16));

test("decodeSockaddr reads sockaddr_in and sockaddr_in6 (port in network order)", () => {
  assert.deepEqual(decodeSockaddr(hex("0200 1f90 0a000102 0000000000000000")), {
    family: 4,
    host: "10.0.1.2",
    port: 8080,
  });
  const v6 = (addr: string) => hex("0a00 01bb 00000000" + addr + "00000000");
  assert.deepEqual(decodeSockaddr(v6("fd000000000000000000000000000002")), {
    family: 6,
    host: "fd00::2",
    port: 443,
  });
  assert.equal(decodeSockaddr(v6("00000000000000000000000000000001"))!.host, "::1");
  assert.equal(decodeSockaddr(v6("20010db8000100000000000000000000"))!.host, "2001:db8:1::");
  assert.equal(decodeSockaddr(v6("00000000000000000000ffff7f000001"))!.host, "::ffff:127.0.0.1");
  assert.equal(
    decodeSockaddr(v6("20010db8000000010000000100000001"))!.host,
    "2001:db8:0:1:0:1:0:1",
  );
  assert.equal(decodeSockaddr(hex("0100")), null);
});

test("normalizeHost treats IPv4-mapped and bracketed forms as the same host", () => {
  assert.equal(normalizeHost("::ffff:10.0.0.1"), "10.0.0.1");
  assert.equal(normalizeHost("[::1]"), "::1");
  assert.equal(normalizeHost("FD00::2"), "fd00::2");
});

/** node:net, and the runtime's own sockets (the proxy's default): the fd search must work for both. */
const networks: [string, Network][] = [
  ["node:net", nodeNetwork],
  typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
    ? ["Bun.listen", bunNetwork]
    : ["Deno.listen", denoNetwork],
];

async function accepted(
  network: Network,
): Promise<{ server: Conn; client: Conn; close: () => Promise<void> }> {
  let resolve!: (c: Conn) => void;
  const got = new Promise<Conn>((r) => (resolve = r));
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, resolve);
  const client = await network.connect({ host: "127.0.0.1", port: listener.address.port });
  const server = await got;
  return {
    server,
    client,
    close: async () => {
      client.close();
      server.close();
      await listener.close();
    },
  };
}

for (const [name, network] of networks) {
  test(`${name}: FFI loads and finds the accepted socket's descriptor by its addresses`, async () => {
    const libc = await runtime.socketCalls();
    const { server, client, close } = await accepted(network);
    try {
      const serverFd = findSocketFd(libc, server.local, server.remote);
      const clientFd = findSocketFd(libc, client.local, client.remote);
      assert.equal(typeof serverFd, "number");
      assert.equal(typeof clientFd, "number");
      assert.notEqual(serverFd, clientFd, "the two ends are different sockets");
      assert.equal(findSocketFd(libc, server.local, { host: "127.0.0.1", port: 1 }), null);
    } finally {
      await close();
    }
  });

  test(`${name}: a connection that was not redirected has no original destination but itself`, async () => {
    const { server, close } = await accepted(network);
    try {
      // Without a NAT rule the kernel has no entry (null), or, with conntrack loaded, the tuple's
      // own destination, which is the local address.
      const dst = await originalDst(runtime.socketCalls, server);
      if (dst !== null) {
        assert.equal(dst.port, server.local.port);
        assert.equal(normalizeHost(dst.host), normalizeHost(server.local.host));
      }
    } finally {
      await close();
    }
  });
}
