/**
 * Child process of https_stalled_loop_test.ts: CONNECTs through the proxy, prints "connected" once
 * the 200 arrived, waits `delayMs`, then runs a TLS handshake and one GET. Prints one JSON line:
 * the issuer of the certificate it got, whether it verified against `caFile`, and the status line.
 * Usage: late_hello_client.ts PROXY_PORT AUTHORITY SERVERNAME CA_FILE DELAY_MS
 */
import fs from "node:fs";
import net from "node:net";
import process from "node:process";
import tls from "node:tls";

const [proxyPort, authority, servername, caFile, delayMs] = process.argv.slice(2);
const fail = (why: string) => {
  console.log(JSON.stringify({ error: why }));
  process.exit(1);
};
const raw = net.connect(Number(proxyPort), "127.0.0.1");
raw.on("error", (e) => fail(e.message));
raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
raw.once("data", (head: Buffer) => {
  if (!head.toString("latin1").startsWith("HTTP/1.1 200 ")) fail(`CONNECT: ${head}`);
  console.log("connected");
  setTimeout(() => {
    const socket = tls.connect({
      socket: raw,
      servername,
      ca: fs.readFileSync(caFile, "utf8"),
      rejectUnauthorized: false,
    });
    socket.once("error", (e) => fail(e.message));
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      socket.write(`GET /late HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.once("end", () => {
        const response = Buffer.concat(chunks).toString("latin1");
        console.log(JSON.stringify({
          issuer: cert.issuer?.CN ?? null,
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ?? null,
          status: response.split("\r\n")[0],
        }));
        process.exit(0);
      });
    });
  }, Number(delayMs));
});
