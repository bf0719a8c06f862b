// The bench's Node origin: counts uploaded bytes (PUT/POST → "<bytes>"), and when nginx is not
// installed also serves GET /1k (1024 bytes) and GET /big (--big-bytes of zeros, streamed).
//   node sink.mjs --http-port P --https-port Q --cert C --key K [--big-bytes N] [--ips a,b,...]
// --ips: extra loopback addresses to serve HTTPS on (the "500 host names" benchmark).
// Prints "READY" once every listener is up.
import http from "node:http";
import https from "node:https";
import fs from "node:fs";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    "http-port": { type: "string" },
    "https-port": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    "big-bytes": { type: "string", default: String(1024 ** 3) },
    ips: { type: "string", default: "" },
  },
});

const ONE_K = Buffer.alloc(1024, "x");
const CHUNK = Buffer.alloc(256 * 1024);
const bigBytes = Number(args["big-bytes"]);

function handle(req, res) {
  if (req.method === "PUT" || req.method === "POST") {
    let n = 0;
    req.on("data", (d) => (n += d.length));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(String(n));
    });
    return;
  }
  if (req.url === "/1k") {
    res.writeHead(200, { "content-type": "text/plain", "content-length": 1024 });
    res.end(ONE_K);
    return;
  }
  if (req.url === "/big") {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bigBytes });
    let left = bigBytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(404);
  res.end();
}

const tlsOptions = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) };
const listen = (server, port, host) =>
  new Promise((resolve, reject) => {
    server.keepAliveTimeout = 120_000;
    server.once("error", reject);
    server.listen(port, host, resolve);
  });

await listen(http.createServer(handle), Number(args["http-port"]), "127.0.0.1");
const httpsPort = Number(args["https-port"]);
for (const host of ["127.0.0.1", ...args.ips.split(",").filter(Boolean)]) {
  await listen(https.createServer(tlsOptions, handle), httpsPort, host);
}
console.log("READY");
