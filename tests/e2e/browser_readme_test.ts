/**
 * README's "A browser, from zero to an intercepted page", run as written for Chromium on Linux:
 * from an empty home directory, the wrapper that puts `mitm` on the PATH, `mitm` started through
 * it, the NSS database created and the CA added with README's own shell lines (twice: running them
 * again must not hang or fail), then headless Chromium (/usr/bin/chromium via playwright-core)
 * loads an https page from a local origin through the proxy, intercepted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { CHROMIUM, launchThroughProxy } from "./browser_helpers.ts";
import { ROOT, run } from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir } from "./https_helpers.ts";

function missingTools(): string | false {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (Debian package chromium)`;
  if (!existsSync("/usr/bin/certutil")) return "certutil is not installed (libnss3-tools)";
  if (!existsSync(join(ROOT, "node_modules/.bin/bun"))) return "node_modules/.bin/bun is missing";
  return false;
}
const skip = missingTools();
if (skip) console.log(`skipping the README browser test: ${skip}`);

/** The README's ```sh block containing `marker`, without its `sudo` lines (packages are there). */
function readmeBlock(marker: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^( *)```sh\n([\s\S]*?)^\1```$/gm)].map((m) =>
    m[2].split("\n").map((l) => l.slice(m[1].length)).join("\n")
  );
  const found = blocks.filter((b) => b.includes(marker));
  assert.equal(found.length, 1, `one README block with ${marker}`);
  return found[0].split("\n").filter((l) => !l.trimStart().startsWith("sudo ")).join("\n");
}

async function bash(script: string, env: Record<string, string>) {
  const r = await run("bash", ["-euo", "pipefail", "-c", script], {
    env,
    cwd: ROOT,
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, `${script}\n=> ${r.code} ${r.signal}\n${r.stdout}${r.stderr}`);
  return r;
}

const PAGE = `<!doctype html><html><head><title>Local origin</title></head>
<body><h1 id="title">Hello through mitm.ts</h1></body></html>`;

test("README: a browser from zero to an intercepted page (Chromium on Linux)", {
  timeout: 240_000,
  skip,
}, async () => {
  const tmp = tempDir("mitm-readme-");
  const home = join(tmp.dir, "home");
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.HOME = home;
  env.PATH = `${home}/.local/bin:${process.env.PATH}`;
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert, (req, res) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(req.url === "/" ? PAGE : "not here");
  });
  let proxy: ReturnType<typeof spawn> | null = null;
  try {
    // Step 1: the wrapper, from README, then `mitm` found on the PATH.
    await bash(`mkdir -p "$HOME" && ${readmeBlock("printf")}`, env);
    const version = await bash("mitm --version", env);
    assert.match(version.stdout, /^mitm\.ts \d/);

    // Step 2: start it (a free port here; README's is 8080). The origin's own CA is trusted
    // upstream, since it is made up for the test.
    proxy = spawn(
      "bash",
      [
        "-c",
        'exec mitm "$@"',
        "mitm",
        "-p",
        "0",
        "--web-port",
        "0",
        "--set",
        `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const listening = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start in 60 s:\n${output}`)), 60_000);
      const onData = (d: Uint8Array) => {
        output += String(d);
        const m = /proxy listening at (http:\/\/\S+)/.exec(output);
        if (m && /Web UI:/.test(output)) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      proxy!.stdout!.on("data", onData);
      proxy!.stderr!.on("data", onData);
      proxy!.on("exit", (code) => reject(new Error(`mitm exited with ${code}:\n${output}`)));
    });
    const proxyUrl = await listening;
    assert.match(output, new RegExp(`created a new certificate authority in ${home}/\\.mitm-ts`));
    assert.match(output, /Web UI: {2}http:\/\/127\.0\.0\.1:\d+\/\?token=/);

    // Step 4: README's NSS lines, on a home Chromium never opened; a second run changes nothing.
    // The line README had before fails on such a home: there is no database to add to.
    const caFile = `${home}/.mitm-ts/mitm-ca-cert.pem`;
    const old = await run(
      "certutil",
      ["-d", `sql:${home}/.pki/nssdb`, "-A", "-t", "C,,", "-n", "mitm-ts", "-i", caFile],
      { timeoutMs: 30_000 },
    );
    assert.notEqual(old.code, 0);
    assert.match(old.stdout + old.stderr, /SEC_ERROR_BAD_DATABASE/);
    const trust = readmeBlock("certutil -d sql:$HOME/.pki/nssdb -N");
    const first = await bash(trust, env);
    assert.match(first.stdout, /mitm-ts\s+C,,/);
    const again = await bash(trust, env);
    assert.match(again.stdout, /mitm-ts\s+C,,/);

    // Steps 3 and 5: Chromium pointed at the proxy (loopback through it too) opens the page.
    const browser = await launchThroughProxy(proxyUrl, env);
    try {
      const page = await browser.newPage();
      const url = `https://localhost:${origin.port}/`;
      const response = await page.goto(url, { timeout: 60_000 });
      assert.ok(response, "a response");
      assert.equal(response.status(), 200);
      assert.equal(await page.textContent("#title"), "Hello through mitm.ts");
      const security = await response.securityDetails();
      assert.equal(security?.issuer, "mitm.ts CA", "the certificate is the proxy's");
      assert.ok(
        await waitFor(() => output.includes(`GET ${url} << 200`)),
        `the proxy printed the flow:\n${output}`,
      );
    } finally {
      await browser.close();
    }
  } finally {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy!.on("exit", resolve));
      process.kill(proxy.pid!, "SIGTERM");
      await exited;
    }
    await origin.close();
    tmp.remove();
  }
});

async function waitFor(check: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}
