/**
 * Run inside the router namespace: accepts redirected connections, prints each one's original
 * destination as a JSON line, and relays the connection there (so the client gets the origin's
 * answer). Usage: transparent_listener.ts PORT [node]  ("node" uses node:net instead of the
 * runtime's own sockets).
 */
import process from "node:process";
import { listenTransparent } from "../../src/runtime/mod.ts";
import type { Conn, Network } from "../../src/runtime/types.ts";
import { nodeNetwork } from "../../src/runtime/node/net.ts";
import { bunNetwork } from "../../src/runtime/bun/net.ts";
import { denoNetwork } from "../../src/runtime/deno/net.ts";

const port = Number(process.argv[2]);
const network: Network = process.argv[3] === "node"
  ? nodeNetwork
  : typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? bunNetwork
  : denoNetwork;

async function pipe(from: Conn, to: Conn): Promise<void> {
  try {
    for (let chunk = await from.read(); chunk !== null; chunk = await from.read()) {
      await to.write(chunk);
    }
    to.closeWrite();
  } catch {
    from.close();
    to.close();
  }
}

await listenTransparent(network, { host: "::", port }, async (conn, dst) => {
  console.log(JSON.stringify({ from: conn.remote, local: conn.local, dst }));
  if (dst === null) return conn.close();
  try {
    const origin = await network.connect({ host: dst.host, port: dst.port, timeoutMs: 5000 });
    await Promise.all([pipe(conn, origin), pipe(origin, conn)]);
  } catch (e) {
    console.log(JSON.stringify({ error: String(e) }));
    conn.close();
  }
}, (conn, e) => {
  console.log(JSON.stringify({ error: String(e) }));
  conn.close();
});
console.log(`listening ${port}`);
