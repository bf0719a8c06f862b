/**
 * Starts the proxy on one Network implementation and prints its URL (one line), for
 * scripts/bench_runtime.ts, which measures it from outside (wrk, curl, /proc/PID/status).
 *
 *   deno run -A scripts/bench_runtime_proxy.ts deno_native|node_net|default
 *   bun scripts/bench_runtime_proxy.ts bun_native|node_net|default
 *
 * Runs until SIGTERM / SIGINT or until stdin closes.
 */
import process from "node:process";
import { startProxy } from "../src/proxy/server.ts";
import { loadNetwork } from "../src/runtime/shared/conformance.ts";

const name = process.argv[2] ?? "default";
const network = await loadNetwork(name);
const proxy = await startProxy({ listen_host: "127.0.0.1", listen_port: 0 }, { network });
console.log(proxy.url);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await proxy.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
