/**
 * Run inside the origin namespace: an https server with the given certificate that answers every
 * request with where it was received and the Host it got. Usage: tls_origin_server.ts PORT CERT KEY
 */
import https from "node:https";
import { readFileSync } from "node:fs";
import process from "node:process";

const [port, cert, key] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  res.end(`tls origin ${req.socket.localPort} ${req.url} host=${req.headers.host}\n`);
}).listen(port, "::", () => console.log(`listening ${port}`));
