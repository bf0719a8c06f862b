// A stand-in for a remote service the project depends on: an exchange-rate API on
// 127.0.0.1:$API_PORT (8787 by default; 0 picks a free port, printed at start).
import http from "node:http";

const RATES = { EUR: { USD: 1.08, GBP: 0.86 }, USD: { EUR: 0.93, GBP: 0.79 } };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  const base = url.searchParams.get("base");
  if (url.pathname !== "/rates" || !(base in RATES)) {
    res.writeHead(404, { "content-type": "application/json" });
    return res.end(JSON.stringify({ error: `no rates for ${base}` }));
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ base, rates: RATES[base] }));
});
server.listen(Number(process.env.API_PORT ?? 8787), "127.0.0.1", () => {
  console.log(
    `rates API listening on http://127.0.0.1:${server.address().port}`,
  );
});
