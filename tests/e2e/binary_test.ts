/**
 * The single executable: built for real with `bun build --compile`, copied to an empty directory
 * and run with an empty environment (no deno, bun, node_modules or PATH), it answers --help,
 * proxies a request and intercepts an https one, loads (and reloads) an addon script given with
 * -s, serves HTTP/2 with the new core, and serves the web UI (opened in Chromium). `deno compile`
 * is tried too; it needs to download its runtime (denort), so it is skipped, with that reason,
 * where dl.deno.land cannot be resolved.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { lookup } from "node:dns/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import http2 from "node:http2";
import type { Socket } from "node:net";
import tls from "node:tls";
import process from "node:process";
import { tempDir } from "../fixtures/temp_dir.ts";
import { curl, rawServer, readUntil, ROOT, run } from "./helpers.ts";
import { httpsOrigin, makeOriginCert } from "./https_helpers.ts";
import { BUN_FLAGS, bunCompileArgs } from "../../scripts/bun_compile.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import { simpleFlow } from "../flow/helpers.ts";
import { Encoder, grpcFrame } from "../protobuf/encode.ts";
import { skipBrowser, withBrowserOn } from "../api/ui_helpers.ts";

const BUN = join(ROOT, "node_modules", ".bin", "bun");
const DENO = join(ROOT, "node_modules", ".bin", "deno");

async function denoCompileBlocker(): Promise<string | false> {
  try {
    await lookup("dl.deno.land");
    return false;
  } catch {
    return "deno compile downloads denort from dl.deno.land, which this machine cannot resolve";
  }
}

/**
 * Runs the binary with no environment at all from an empty directory and proxies one http
 * request and one intercepted https request (verified on both sides: the client trusts the CA the
 * binary made in its confdir, the binary trusts the origin's CA).
 */
async function checkBinary(binary: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mitm-bin-"));
  const lonely = join(dir, "mitm");
  copyFileSync(binary, lonely);
  try {
    const help = await run(lonely, ["--help"], { env: {}, cwd: dir });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: mitm \[options\]/);

    const origin = await rawServer((s) =>
      s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfrom origin"))
    );
    const cert = await makeOriginCert(dir, ["localhost"]);
    const secure = await httpsOrigin(cert);
    const confdir = join(dir, "conf");
    const child = spawn(lonely, [
      "-p",
      "0",
      "--confdir",
      confdir,
      "--set",
      `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
    ], {
      env: {},
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const out = await readUntil(child.stdout as never, (b) => /listening at \S+/.test(String(b)));
      const url = /listening at (\S+)/.exec(String(out))![1];
      const r = await curl(["--noproxy", "", "-x", url, `http://127.0.0.1:${origin.port}/`]);
      assert.equal(r.stdout, "from origin", r.stderr);
      const s = await curl([
        "-v",
        "--noproxy",
        "",
        "-x",
        url,
        "--cacert",
        join(confdir, "mitm-ca-cert.pem"),
        `https://localhost:${secure.port}/from-binary`,
      ]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(
        s.stdout,
        `hello from the origin: GET /from-binary (Host: localhost:${secure.port})`,
      );
      assert.match(s.stderr, /issuer: CN=mitm\.ts CA/);
    } finally {
      process.kill(child.pid!, "SIGTERM");
      await new Promise((r) => child.on("exit", r));
      await origin.close();
      await secure.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let bunBuild: Promise<string> | null = null;

/** Builds the Bun executable once for the tests that run it; removed when the process exits. */
function bunBinary(): Promise<string> {
  return bunBuild ??= (async () => {
    const out = tempDir("mitm-build-").dir;
    const binary = join(out, "mitm");
    const build = await run(BUN, bunCompileArgs("cli.ts", binary), {
      cwd: ROOT,
      timeoutMs: 170_000,
    });
    assert.equal(build.code, 0, build.stderr + build.stdout);
    return binary;
  })();
}

test("npm start, npm run compile and deno task compile:bun run Bun as the tests and bench do", () => {
  const npm = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).tasks;
  const build = `bun ${bunCompileArgs("cli.ts", "dist/mitm").join(" ")}`;
  assert.ok(npm.compile.endsWith(`&& ${build}`), npm.compile);
  assert.equal(deno["compile:bun"], `./node_modules/.bin/${build}`);
  assert.equal(npm.start, "bun --smol cli.ts");
  assert.equal(npm.start, `bun ${BUN_FLAGS.join(" ")} cli.ts`); // the bench's "mitm.ts (Bun)"
});

test("bun build --compile makes one executable that runs with nothing installed", {
  timeout: 180_000,
}, async () => {
  const binary = await bunBinary();
  assert.ok(statSync(binary).size > 1_000_000);
  await checkBinary(binary);
});

/** An addon as users write one: a type-only import (erased, so the path need not exist). */
const ADDON = (value: string) =>
  `import type { Addon } from "./not-here/mod.ts";

export default {
  name: "binary-addon",
  request(flow) {
    flow.request.headers.set("X-From-Addon", "${value}");
  },
  response(flow) {
    flow.response?.headers.set("X-Addon-Response", "${value}");
  },
} satisfies Addon;
`;

test("the Bun executable loads an addon script given with -s, and reloads it", {
  timeout: 180_000,
}, async () => {
  const binary = await bunBinary();
  const dir = mkdtempSync(join(tmpdir(), "mitm-bin-addon-"));
  const lonely = join(dir, "mitm");
  copyFileSync(binary, lonely);
  writeFileSync(join(dir, "addon.ts"), ADDON("one"));
  const seen: string[] = [];
  const origin = await rawServer((s) =>
    s.on("data", (d) => {
      const m = /\r\nX-From-Addon: ([^\r]*)\r\n/i.exec(String(d));
      seen.push(m ? m[1] : "(none)");
      s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    })
  );
  const child = spawn(lonely, ["-p", "0", "--confdir", join(dir, "conf"), "-s", "addon.ts"], {
    env: {},
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const waitFor = async (re: RegExp) => {
    const end = Date.now() + 20_000;
    while (!re.test(output)) {
      if (Date.now() > end || child.exitCode !== null) assert.fail(`no ${re} in:\n${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor(/listening at \S+/);
    assert.match(output, /loaded addon script addon\.ts \(binary-addon\)/);
    const url = /listening at (\S+)/.exec(output)![1];
    const get = () => curl(["-i", "--noproxy", "", "-x", url, `http://127.0.0.1:${origin.port}/`]);
    const r = await get();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\r\nX-Addon-Response: one\r\n/);
    assert.deepEqual(seen, ["one"]);

    writeFileSync(join(dir, "addon.ts"), ADDON("two"));
    await waitFor(/reloaded addon script/);
    const again = await get();
    assert.match(again.stdout, /\r\nX-Addon-Response: two\r\n/);
    assert.deepEqual(seen, ["one", "two"]);
  } finally {
    if (child.exitCode === null) process.kill(child.pid!, "SIGTERM");
    await new Promise((r) => child.exitCode !== null ? r(null) : child.on("exit", r));
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * HTTP/2 in the executable (the new core): curl --http2 through CONNECT to an h2-only origin
 * (h2 on both sides, the origin trusted through its CA file), curl --http1.1 to it (translated),
 * and h2c with prior knowledge on the proxy port to a plain HTTP/1.1 origin.
 */
test("the Bun executable serves HTTP/2: h2 through CONNECT and h2c", {
  timeout: 180_000,
}, async () => {
  const binary = await bunBinary();
  const dir = mkdtempSync(join(tmpdir(), "mitm-bin-h2-"));
  const lonely = join(dir, "mitm");
  copyFileSync(binary, lonely);
  const cert = await makeOriginCert(dir, ["localhost"]);
  const h2 = http2.createSecureServer({ cert: cert.certPem, key: cert.keyPem, allowHTTP1: false });
  h2.on("stream", (stream, headers) => {
    stream.respond({ ":status": 200 });
    stream.end(`h2 origin: ${headers[":path"]}`);
  });
  await new Promise<void>((r) => h2.listen(0, "127.0.0.1", r));
  const h2Port = (h2.address() as { port: number }).port;
  const plain = await rawServer((s) =>
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfrom origin"))
  );
  const confdir = join(dir, "conf");
  const child = spawn(lonely, [
    "-p",
    "0",
    "--confdir",
    confdir,
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ], { env: {}, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  try {
    const out = await readUntil(child.stdout as never, (b) => /listening at \S+/.test(String(b)));
    const url = /listening at (\S+)/.exec(String(out))![1];
    const s = await curl([
      "-v",
      "--http2",
      "--noproxy",
      "",
      "-x",
      url,
      "--cacert",
      join(confdir, "mitm-ca-cert.pem"),
      `https://localhost:${h2Port}/over-h2`,
    ]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, "h2 origin: /over-h2");
    assert.match(s.stderr, /< HTTP\/2 200/);
    assert.match(s.stderr, /issuer: CN=mitm\.ts CA/);

    // An HTTP/1.1-only client to the h2-only origin: the origin refuses http/1.1
    // (no_application_protocol), is dialled again offering h2, and the proxy translates.
    const h1 = await curl([
      "--http1.1",
      "--noproxy",
      "",
      "-x",
      url,
      "--cacert",
      join(confdir, "mitm-ca-cert.pem"),
      "-w",
      " %{http_version}",
      `https://localhost:${h2Port}/from-h1`,
    ]);
    assert.equal(h1.code, 0, h1.stderr);
    assert.equal(h1.stdout, "h2 origin: /from-h1 1.1");

    const port = new URL(url).port;
    const c = await curl([
      "--http2-prior-knowledge",
      "-w",
      " %{http_version}",
      "--connect-to",
      `127.0.0.1:${plain.port}:127.0.0.1:${port}`,
      `http://127.0.0.1:${plain.port}/h2c`,
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, "from origin 2");
  } finally {
    process.kill(child.pid!, "SIGTERM");
    await new Promise((r) => child.exitCode !== null ? r(null) : child.on("exit", r));
    await new Promise((r) => h2.close(r));
    await plain.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A CONNECT inside an HTTP/2 stream in the executable: a node:http2 client with prior knowledge
 * on the proxy port opens CONNECT streams. Through one it speaks plain HTTP/1.1 (the tunnel's
 * own stack reads it as HTTP); through another (on Bun) TLS, trusting the proxy's CA, and
 * HTTP/1.1 to an HTTPS origin, which the proxy intercepts inside the stream. (A Deno client
 * makes the executable's TLS ask for another key share, a HelloRetryRequest: a handshake of
 * three flights through the stream.)
 */
test("the Bun executable carries CONNECT inside an h2 stream, TLS intercepted", {
  timeout: 180_000,
}, async () => {
  const binary = await bunBinary();
  const dir = mkdtempSync(join(tmpdir(), "mitm-bin-h2connect-"));
  const lonely = join(dir, "mitm");
  copyFileSync(binary, lonely);
  const cert = await makeOriginCert(dir, ["localhost"]);
  const secure = await httpsOrigin(cert);
  const plain = await rawServer((s) =>
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfrom origin"))
  );
  const confdir = join(dir, "conf");
  const child = spawn(lonely, [
    "-p",
    "0",
    "--confdir",
    confdir,
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ], { env: {}, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  try {
    const out = await readUntil(child.stdout as never, (b) => /listening at \S+/.test(String(b)));
    const url = /listening at (\S+)/.exec(String(out))![1];
    const session = http2.connect(url);
    session.on("error", () => {});
    const open = async (authority: string) => {
      const stream = session.request({ ":method": "CONNECT", ":authority": authority });
      const status = await new Promise<number>((resolve, reject) => {
        stream.once("response", (h) => resolve(Number(h[":status"])));
        stream.once("error", reject);
      });
      assert.equal(status, 200);
      return stream;
    };
    /** Writes `request` on a duplex and reads until its end. */
    const exchange = (duplex: NodeJS.ReadWriteStream, request: string) =>
      new Promise<string>((resolve, reject) => {
        let text = "";
        duplex.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
        duplex.on("end", () => resolve(text));
        duplex.on("error", reject);
        duplex.write(request);
      });

    const tunnel = await open(`127.0.0.1:${plain.port}`);
    const text = await exchange(
      tunnel,
      "GET /plain-in-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*from origin$/);

    const stream = await open(`localhost:${secure.port}`);
    const socket = tls.connect({
      socket: stream as unknown as Socket,
      servername: "localhost",
      ca: readFileSync(join(confdir, "mitm-ca-cert.pem"), "utf8"),
      ALPNProtocols: ["http/1.1"],
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    assert.match(String(socket.getPeerCertificate().issuer.CN), /mitm\.ts CA/);
    const answer = await exchange(
      socket,
      "GET /in-h2-stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /hello from the origin: GET \/in-h2-stream/);
    socket.destroy();
    await new Promise<void>((r) => session.close(() => r()));
  } finally {
    process.kill(child.pid!, "SIGTERM");
    await new Promise((r) => child.exitCode !== null ? r(null) : child.on("exit", r));
    await secure.close();
    await plain.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The Bun executable alone in a temporary directory, run with an empty environment and the web UI
 * on (`-p 0 --web-port 0` and `args`), with an origin that answers every request with `reply`;
 * stopped and removed after `fn`.
 */
async function withLonelyWebBinary(
  name: string,
  reply: string,
  args: string[],
  fn: (run: { proxyUrl: string; uiUrl: string; originPort: number }) => Promise<void>,
): Promise<void> {
  const binary = await bunBinary();
  const dir = mkdtempSync(join(tmpdir(), `mitm-bin-${name}-`));
  const lonely = join(dir, "mitm");
  copyFileSync(binary, lonely);
  const origin = await rawServer((s) => s.on("data", () => s.end(reply)));
  const child = spawn(
    lonely,
    ["-p", "0", "--web-port", "0", "--confdir", join(dir, "conf"), ...args],
    { env: {}, cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    const out = String(
      await readUntil(child.stdout as never, (b) => /Web UI: +\S+/.test(String(b))),
    );
    const proxyUrl = /listening at (\S+)/.exec(out)![1];
    const uiUrl = /Web UI: +(\S+)/.exec(out)![1];
    await fn({ proxyUrl, uiUrl, originPort: origin.port });
  } finally {
    process.kill(child.pid!, "SIGTERM");
    await new Promise((r) => child.on("exit", r));
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the Bun executable serves the web UI: the newest flows in the page, then the live list", {
  timeout: 180_000,
  skip: skipBrowser,
}, async () => {
  const reply = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nfrom origin";
  await withLonelyWebBinary("ui", reply, [], async ({ proxyUrl, uiUrl, originPort }) => {
    const r = await curl(["--noproxy", "", "-x", proxyUrl, `http://127.0.0.1:${originPort}/seen`]);
    assert.equal(r.stdout, "from origin", r.stderr);
    // The server's rows (before the script) carry the flow once the store has it; the live list
    // takes over and opens it.
    const rowWithFlow = /class="row[^"]*" data-id="[^"]+"[\s\S]*\/seen/;
    let html = "";
    for (let i = 0; i < 50 && !rowWithFlow.test(html); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const page = await fetch(uiUrl);
      assert.equal(page.status, 200);
      html = await page.text();
    }
    assert.match(html, rowWithFlow);
    await withBrowserOn({ uiUrl }, async (ui) => {
      await ui.waitForSelector("#filter");
      await ui.click(".row[data-id]:has-text('/seen')");
      await ui.waitForSelector("#details h2.url:has-text('/seen')");
    });
  });
});

test("the Bun executable's flow store writes on its writer thread (flow_store_writer=worker)", {
  timeout: 180_000,
}, async () => {
  const reply = "HTTP/1.1 201 Created\r\nX-From: origin\r\nContent-Length: 11\r\n\r\nfrom origin";
  const token = "writer-test-token";
  const args = ["--api-token", token, "--set", "flow_store_writer=worker"];
  await withLonelyWebBinary("writer", reply, args, async ({ proxyUrl, uiUrl, originPort }) => {
    const api = new URL(uiUrl).origin;
    const get = (path: string) =>
      fetch(api + path, { headers: { Authorization: `Bearer ${token}` } });
    const r = await curl([
      "--noproxy",
      "",
      "-x",
      proxyUrl,
      "-H",
      "X-Sent: ünïcode",
      "--data-binary",
      "ask",
      `http://127.0.0.1:${originPort}/stored`,
    ]);
    assert.equal(r.stdout, "from origin", r.stderr);
    // Written by the writer thread from the flow's packet, then read back from the file.
    let listed: { flows: { id: string }[] } = { flows: [] };
    for (let i = 0; i < 50 && listed.flows.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      listed = await (await get("/api/flows")).json();
    }
    assert.equal(listed.flows.length, 1);
    // Asked after a batch was written: a writer thread that could not start would be gone by now.
    const status = await (await get("/api/status")).json();
    assert.equal(status.store.writer, "worker");
    const flow = await (await get(`/api/flows/${listed.flows[0].id}`)).json();
    assert.equal(flow.request.method, "POST");
    assert.equal(flow.request.path, "/stored");
    // Header bytes are read as Latin-1: curl's UTF-8 comes back as those bytes' characters.
    const sent = new TextDecoder("latin1").decode(new TextEncoder().encode("ünïcode"));
    assert.ok(
      flow.request.headers.some(([n, v]: string[]) => n === "X-Sent" && v === sent),
      JSON.stringify(flow.request.headers),
    );
    assert.equal(flow.response.status, 201);
    assert.equal(await (await get(`/api/flows/${flow.id}/request/body`)).text(), "ask");
    assert.equal(await (await get(`/api/flows/${flow.id}/response/body`)).text(), "from origin");
  });
});

test("the binary decodes a gRPC body with --set protobuf_definitions in mitm read", {
  timeout: 180_000,
}, async () => {
  const binary = await bunBinary();
  const dir = mkdtempSync(join(tmpdir(), "mitm-bin-proto-"));
  try {
    writeFileSync(
      join(dir, "svc.proto"),
      `syntax = "proto3"; package p; import "google/protobuf/timestamp.proto";
       message Req {} message Res { uint64 n = 1; google.protobuf.Timestamp at = 2; }
       service S { rpc Get (Req) returns (Res); }`,
    );
    const body = new Encoder()
      .varint(1, 18446744073709551615n)
      .bytes(2, new Encoder().varint(1, 1700000000))
      .finish();
    const flow = simpleFlow(grpcFrame(body), { path: "/p.S/Get", contentType: "application/grpc" });
    writeFileSync(join(dir, "flows.jsonl"), JSON.stringify(flowToJson(flow)) + "\n");
    const read = await run(
      binary,
      ["read", "flows.jsonl", "-d", "3", "--set", "protobuf_definitions=svc.proto"],
      { env: {}, cwd: dir },
    );
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /p\.Res \(response of rpc p\.S\/Get\)/);
    assert.match(read.stdout, / {2}n: 18446744073709551615\n/);
    assert.match(read.stdout, / {4}seconds: 1700000000\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const denoCompileSkip = await denoCompileBlocker();
if (denoCompileSkip) console.log(`skipping the deno compile test: ${denoCompileSkip}`);

test("deno compile makes one executable that runs with nothing installed", {
  timeout: 300_000,
  skip: denoCompileSkip,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), "mitm-build-"));
  const binary = join(out, "mitm");
  try {
    const build = await run(DENO, ["compile", "-A", "--output", binary, "cli.ts"], {
      cwd: ROOT,
      timeoutMs: 290_000,
    });
    assert.equal(build.code, 0, build.stderr);
    assert.ok(existsSync(binary));
    await checkBinary(binary);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
