// Holds N idle HTTP/2 connections (TLS, h2) to a proxy: each makes one GET /1k, then stays open
// until this process is stopped. Prints READY once all are idle. Used by scripts/bench_h2.ts.
import http2 from "node:http2";

const [port, count] = process.argv.slice(2).map(Number);
const sessions = [];
async function one() {
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  session.on("error", () => {});
  sessions.push(session);
  await new Promise((resolve, reject) => {
    const req = session.request({ ":path": "/1k" });
    req.on("response", () => {});
    req.on("data", () => {});
    req.on("end", resolve);
    req.on("error", reject);
    req.end();
  });
}
// A few at a time: the proxy makes a TLS handshake per connection.
for (let i = 0; i < count; i += 20) {
  await Promise.all(Array.from({ length: Math.min(20, count - i) }, one));
}
console.log("READY");
setInterval(() => {}, 1 << 30);
