// Starts http-mitm-proxy (npm) for scripts/bench.ts: keep-alive agents, origin certificates not
// verified (the bench origin's is self-signed). Prints "READY http://host:port".
//   node http_mitm_proxy.mjs PORT CONFDIR  (resolved from the bench's peer install, NODE_PATH)
import https from "node:https";
import http from "node:http";
import { createRequire } from "node:module";

const [port, confdir, peers] = process.argv.slice(2);
const require = createRequire(peers + "/");
const { Proxy } = require("http-mitm-proxy");
const proxy = new Proxy();
proxy.onError(() => {});
proxy.listen({
  host: "127.0.0.1",
  port: Number(port),
  sslCaDir: confdir,
  keepAlive: true,
  httpAgent: new http.Agent({ keepAlive: true }),
  httpsAgent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
}, (err) => {
  if (err) throw err;
  console.log(`READY http://127.0.0.1:${port}`);
});
