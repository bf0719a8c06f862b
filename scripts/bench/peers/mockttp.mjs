// Starts mockttp (npm) as a pass-through proxy for scripts/bench.ts, origin certificates not
// verified (the bench origin's is self-signed). Prints "READY http://host:port".
//   node mockttp.mjs PORT CONFDIR PEERS_DIR
import { createRequire } from "node:module";

const [port, _confdir, peers] = process.argv.slice(2);
const require = createRequire(peers + "/");
const mockttp = require("mockttp");
const ca = await mockttp.generateCACertificate();
const server = mockttp.getLocal({ https: ca, recordTraffic: false });
await server.start(Number(port));
await server.forAnyRequest().thenPassThrough({ ignoreHostHttpsErrors: true });
console.log(`READY http://127.0.0.1:${port}`);
