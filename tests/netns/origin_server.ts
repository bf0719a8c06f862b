/** Run inside the origin namespace: answers every request with where it was received. */
import http from "node:http";
import process from "node:process";

const port = Number(process.argv[2]);
http.createServer((req, res) => {
  res.end(`origin ${req.socket.localAddress} ${req.socket.localPort} ${req.url}\n`);
}).listen(port, "::", () => console.log(`listening ${port}`));
