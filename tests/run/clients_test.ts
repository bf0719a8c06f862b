/**
 * `mitm run -w FILE -- TOOL`: real tools, with no proxy or CA settings of their own, reach local
 * http and https origins through the proxy; each request is in the recording and each tool's
 * output and exit status come through.
 */
import { after, before, describe, test } from "node:test";
import process from "node:process";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  httpOrigin,
  httpsOrigin,
  makeOriginCert,
  type OriginCert,
  tempDir,
} from "../e2e/https_helpers.ts";
import { run } from "../e2e/helpers.ts";
import { BUN, DENO, mitmRun, recordedRequests, works } from "./helpers.ts";

describe("mitm run: real clients through the proxy", () => {
  const tmp = tempDir("mitm-run-clients-");
  let cert: OriginCert;
  let secure: Awaited<ReturnType<typeof httpsOrigin>>;
  let plain: Awaited<ReturnType<typeof httpOrigin>>;
  let n = 0;

  before(async () => {
    cert = await makeOriginCert(tmp.dir, ["localhost", "127.0.0.1"]);
    secure = await httpsOrigin(cert);
    plain = await httpOrigin();
  });
  after(async () => {
    await secure.close();
    await plain.close();
    tmp.remove();
  });

  /**
   * Runs `command` under `mitm run -w`, the proxy trusting the origin CA; checks the exit status,
   * that the output has each origin answer, and that each URL is in the recording.
   */
  async function capture(
    command: string[],
    urls: string[],
    expect: { code?: number } = {},
  ) {
    const record = join(tmp.dir, `flows-${++n}.jsonl`);
    const r = await mitmRun([
      "-w",
      record,
      "--set",
      `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
      "--",
      ...command,
    ]);
    const why = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.code, expect.code ?? 0, why);
    for (const url of urls) {
      const path = new URL(url).pathname;
      const answer = url.startsWith("https:")
        ? "hello from the origin: GET "
        : "plain origin: GET ";
      assert.ok(
        r.stdout.includes(answer + path),
        `no answer for ${url}; ${why}`,
      );
    }
    const recorded = recordedRequests(record);
    for (const url of urls) {
      assert.ok(recorded.includes(`GET ${url}`), `${url} not in ${recorded}`);
    }
    return r;
  }

  const https = (path: string) => `https://localhost:${secure.port}${path}`;
  const httpsIp = (path: string) => `https://127.0.0.1:${secure.port}${path}`;
  const http = (path: string) => `http://127.0.0.1:${plain.port}${path}`;

  test("curl, http and https (by name and by IP)", async () => {
    await capture(
      [
        "sh",
        "-c",
        `curl -sS ${http("/curl")}; echo; curl -sS ${https("/curl")}; echo; ` +
        `curl -sS ${httpsIp("/curl-ip")}`,
      ],
      [http("/curl"), https("/curl"), httpsIp("/curl-ip")],
    );
  });

  test("wget", async (t) => {
    if (!(await works("wget", ["--version"]))) {
      return t.skip("wget is not installed");
    }
    await capture(
      [
        "sh",
        "-c",
        `wget -qO- ${http("/wget")}; echo; wget -qO- ${https("/wget")}`,
      ],
      [http("/wget"), https("/wget")],
    );
  });

  test("Node fetch and https.get, which ignore proxy variables by themselves", async (t) => {
    if (!(await works("node", ["--version"]))) {
      return t.skip("node is not on PATH");
    }
    const script = join(tmp.dir, "node-client.mjs");
    writeFileSync(
      script,
      `import https from "node:https"; import http from "node:http";
const get = (mod, url) => new Promise((resolve, reject) =>
  mod.get(url, (res) => { let s = ""; res.on("data", (d) => s += d); res.on("end", () => resolve(s)); })
    .on("error", reject));
console.log(await (await fetch(process.argv[2])).text());
console.log(await (await fetch(process.argv[3])).text());
console.log(await get(https, process.argv[4]));
console.log(await get(http, process.argv[5]));
`,
    );
    const urls = [
      https("/fetch"),
      http("/fetch"),
      https("/https-get"),
      http("/http-get"),
    ];
    await capture(["node", script, ...urls], urls);
  });

  test("Python urllib and requests", async (t) => {
    if (!(await works("python3", ["--version"]))) {
      return t.skip("python3 is not installed");
    }
    const urllib = `import urllib.request,sys\nfor u in sys.argv[1:]: ` +
      `print(urllib.request.urlopen(u).read().decode())`;
    await capture(
      ["python3", "-c", urllib, https("/urllib"), http("/urllib")],
      [https("/urllib"), http("/urllib")],
    );
    if (!(await works("python3", ["-c", "import requests"]))) {
      return t.skip(
        "python3 has no requests module (Debian: python3-requests)",
      );
    }
    const requests = `import requests,sys\nfor u in sys.argv[1:]: print(requests.get(u).text)`;
    await capture(
      ["python3", "-c", requests, https("/requests"), http("/requests")],
      [https("/requests"), http("/requests")],
    );
  });

  test("Deno fetch", async () => {
    const code = `for (const u of Deno.args) console.log(await (await fetch(u)).text());`;
    await capture(
      [DENO, "eval", code, https("/deno"), http("/deno")],
      [https("/deno"), http("/deno")],
    );
  });

  test("Bun fetch", async () => {
    const urls = JSON.stringify([https("/bun"), http("/bun")]);
    const code = `for (const u of ${urls}) console.log(await (await fetch(u)).text());`;
    await capture(
      [BUN, "-e", code],
      [https("/bun"), http("/bun")],
    );
  });

  test("Java HttpClient", async (t) => {
    if (!(await works("java", ["-version"]))) {
      return t.skip("java is not installed");
    }
    const source = join(tmp.dir, "Fetch.java");
    writeFileSync(
      source,
      `import java.net.URI;
import java.net.http.*;
public class Fetch {
  public static void main(String[] urls) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    for (String u : urls) {
      HttpRequest req = HttpRequest.newBuilder(URI.create(u)).build();
      System.out.println(client.send(req, HttpResponse.BodyHandlers.ofString()).body());
    }
  }
}
`,
    );
    await capture(
      ["java", source, https("/java"), http("/java")],
      [https("/java"), http("/java")],
    );
  });

  test("git clone over https (the dumb HTTP protocol, served as static files)", async (t) => {
    if (!(await works("git", ["--version"]))) {
      return t.skip("git is not installed");
    }
    const git = async (args: string[]) => {
      const r = await run("git", [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        ...args,
      ]);
      assert.equal(r.code, 0, r.stderr);
    };
    const work = join(tmp.dir, "git-work");
    await git(["init", "-q", work]);
    writeFileSync(join(work, "README"), "cloned through mitm run\n");
    await git(["-C", work, "add", "README"]);
    await git(["-C", work, "commit", "-q", "-m", "first"]);
    const bare = join(tmp.dir, "repo.git");
    await git(["clone", "-q", "--bare", work, bare]);
    await git(["-C", bare, "update-server-info"]);
    const files = await httpsOrigin(cert, (req, res) => {
      const path = join(
        tmp.dir,
        decodeURIComponent(new URL(req.url!, "https://x").pathname),
      );
      if (!path.startsWith(bare) || !existsSync(path)) {
        res.statusCode = 404;
        return res.end();
      }
      res.end(readFileSync(path));
    });
    try {
      const record = join(tmp.dir, "git-flows.jsonl");
      const out = join(tmp.dir, "git-clone");
      const url = `https://localhost:${files.port}/repo.git`;
      const r = await mitmRun([
        "-w",
        record,
        "--set",
        `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
        "--",
        "git",
        "clone",
        "-q",
        url,
        out,
      ], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } as Record<
          string,
          string
        >,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        readFileSync(join(out, "README"), "utf8"),
        "cloned through mitm run\n",
      );
      const recorded = recordedRequests(record);
      assert.ok(
        recorded.some((l) => l.startsWith(`GET ${url}/info/refs`)),
        recorded.join("\n"),
      );
    } finally {
      await files.close();
    }
  });

  test("the command's exit status is passed on, after its traffic", async () => {
    const r = await capture(
      ["sh", "-c", `curl -sS ${https("/then-fail")}; exit 7`],
      [https("/then-fail")],
      { code: 7 },
    );
    assert.match(r.stderr, /GET https:\/\/localhost:\d+\/then-fail << 200/);
  });
});
