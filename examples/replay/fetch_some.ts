/**
 * A small program to record and replay: fetches each URL given on the command line, in order,
 * and prints one line per URL (status, content type, body). Runs on Deno and Bun; both send
 * fetch() through HTTP_PROXY / HTTPS_PROXY, and trust the mitm.ts CA through DENO_CERT (Deno)
 * or NODE_EXTRA_CA_CERTS (Bun).
 *
 *   deno run -A examples/replay/fetch_some.ts http://127.0.0.1:8000/a https://localhost:8443/b
 *   bun examples/replay/fetch_some.ts http://127.0.0.1:8000/a https://localhost:8443/b
 */
import process from "node:process";

const urls = process.argv.slice(2);
if (urls.length === 0) {
  console.error("usage: fetch_some.ts URL...");
  process.exit(2);
}
let failed = 0;
for (const url of urls) {
  try {
    const response = await fetch(url);
    const body = await response.text();
    const type = response.headers.get("content-type") ?? "-";
    console.log(`${response.status} ${url} ${type} ${JSON.stringify(body)}`);
  } catch (e) {
    failed++;
    console.log(`ERROR ${url} ${(e as Error).message}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
