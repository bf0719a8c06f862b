/**
 * `mitm mcp` as agents run it: a subprocess on stdin/stdout driven by the SDK's own client,
 * with its own proxy and attached to a running one (--api). Standard output must carry protocol
 * messages only, and the logs must not show the token or captured credentials.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { startWeb } from "../../src/api/web.ts";
import { createLogger } from "../../src/log.ts";
import { startProxy } from "../../src/proxy/server.ts";
import { cliArgv, run } from "../e2e/helpers.ts";
import { testCa, testConfdir } from "../fixtures/ca.ts";
import { startOrigin } from "../api/helpers.ts";
import {
  call,
  exerciseAllTools,
  INITIALIZE,
  type McpProcess,
  ok,
  spawnMcp,
  waitForText,
} from "./helpers.ts";

const TOKEN = "mcp-stdio-token-0123456789";

/** Starts `mitm mcp ARGS` on the runtime running the tests. */
function spawnCli(args: string[], env: Record<string, string>): Promise<McpProcess> {
  const [command, argv] = cliArgv(["mcp", ...args]);
  return spawnMcp({
    command,
    args: argv,
    env: { ...process.env as Record<string, string>, NO_COLOR: "1", ...env },
  });
}

describe("mitm mcp on stdio", () => {
  test("with its own proxy: every tool on real flows; logs only on stderr, no secrets", {
    timeout: 180_000,
  }, async () => {
    const origin = await startOrigin();
    const mcp = await spawnCli(
      ["-v", "-p", "0", "--web-port", "0", "--confdir", await testConfdir()],
      { MITM_API_TOKEN: TOKEN },
    );
    try {
      const [, proxyUrl] = await waitForText(
        "the proxy address",
        mcp.stderr,
        /proxy listening at (http:\/\/\S+)/,
      );
      assert.equal(mcp.client.getServerVersion()?.name, "mitm.ts");
      await exerciseAllTools(mcp.client, proxyUrl, origin);
      // Verbose logs went somewhere, and it was not stdout (the client would have choked).
      assert.match(mcp.stderr(), /^mcp: get_flow$/m);
      assert.match(mcp.stderr(), /^mcp: get_flow failed: No flow no-such-flow/m);
      assert.deepEqual(mcp.errors.map((e) => e.message), []);
      assert.ok(!mcp.stderr().includes(TOKEN), "the token is not in the logs");
      assert.ok(!mcp.stderr().includes("s3cr3t-cookie"), "captured cookies are not in the logs");
    } finally {
      await mcp.client.close();
      await origin.close();
    }
  });

  test("attached to a running proxy with --api and MITM_API_TOKEN: every tool on real flows", {
    timeout: 180_000,
  }, async () => {
    const origin = await startOrigin();
    const proxy = await startProxy(
      { listen_port: 0 },
      { ca: await testCa(), log: createLogger("error", () => {}) },
    );
    const web = await startWeb(proxy, { port: 0, token: TOKEN });
    try {
      // HTTP_PROXY often points at this very proxy: the API's own requests must not go through
      // it (the token would be captured in flows).
      const mcp = await spawnCli(["--api", web.url], {
        MITM_API_TOKEN: TOKEN,
        HTTP_PROXY: proxy.url,
        http_proxy: proxy.url,
      });
      try {
        assert.match(mcp.stderr(), /attached to the proxy at http:\/\/127\.0\.0\.1:\d+/);
        await exerciseAllTools(mcp.client, proxy.url, origin);
        assert.match(await ok(mcp.client, "list_flows", { filter: "~u /api/" }), /^No flows/);
        assert.deepEqual(mcp.errors.map((e) => e.message), []);
        assert.ok(!mcp.stderr().includes(TOKEN));
      } finally {
        await mcp.client.close();
      }
      // --api-token works as well; a wrong token is refused at once, in one line.
      const byFlag = await spawnCli(["--api", web.url, "--api-token", TOKEN], {});
      try {
        assert.match(await ok(byFlag.client, "list_flows", { limit: 1 }), /^1 of \d+ flows:/);
      } finally {
        await byFlag.client.close();
      }
      const [command, argv] = cliArgv(["mcp", "--api", web.url, "--api-token", "wrong-token-1"]);
      const wrong = await run(command, argv, { input: "" });
      assert.equal(wrong.code, 1);
      assert.equal(wrong.stdout, "");
      assert.match(wrong.stderr, /^mitm mcp: The proxy refused the API token \(wrong API token\)/);
      assert.equal(wrong.stderr.trim().split("\n").length, 1, wrong.stderr);
      assert.ok(!wrong.stderr.includes("wrong-token-1"));
    } finally {
      await web.close();
      await proxy.close();
      await origin.close();
    }
  });

  test("stdout carries only protocol messages, and closing stdin ends the server with 0", {
    timeout: 120_000,
  }, async () => {
    const [command, argv] = cliArgv([
      "mcp",
      "-v",
      "-p",
      "0",
      "--no-web",
      "--confdir",
      await testConfdir(),
    ]);
    const child = spawn(command, argv, { stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += String(d)));
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const send = (message: unknown) => child.stdin!.write(JSON.stringify(message) + "\n");
    send(INITIALIZE);
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    child.stdin!.write("this line is not JSON\n"); // a client's mistake must not end the server
    send({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "list_flows", arguments: {} },
    });
    await waitForText("three answers", () => stdout, /"id":3/);
    child.stdin!.end();
    assert.equal(await exited, 0, stderr);
    const messages = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(messages.filter((m) => m.id !== undefined).map((m) => m.id), [1, 2, 3]);
    assert.ok(messages.every((m) => m.jsonrpc === "2.0"));
    assert.equal(messages[1].result.tools.length, 10);
    assert.match(messages[2].result.content[0].text, /^No flows/);
    assert.match(stderr, /proxy listening at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stderr, /^mcp: list_flows$/m);
  });

  test("usage mistakes are one line on stderr, and a proxy gone away is a tool error", {
    timeout: 120_000,
  }, async () => {
    const [command, noToken] = cliArgv(["mcp", "--api", "http://127.0.0.1:1"]);
    const env = { ...process.env as Record<string, string> };
    delete env.MITM_API_TOKEN;
    const missing = await run(command, noToken, { env, input: "" });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^mitm mcp: --api needs the proxy's API token/);
    const [, badUrl] = cliArgv(["mcp", "--api", "localhost:8081", "--api-token", TOKEN]);
    const bad = await run(command, badUrl, { input: "" });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^mitm mcp: --api expects the proxy's web UI address/);

    // Attached, then the proxy stops: calls fail as tool errors and the server stays up.
    const proxy = await startProxy(
      { listen_port: 0 },
      { ca: await testCa(), log: createLogger("error", () => {}) },
    );
    const web = await startWeb(proxy, { port: 0, token: TOKEN });
    const mcp = await spawnCli(["--api", web.url], { MITM_API_TOKEN: TOKEN });
    try {
      await web.close();
      await proxy.close();
      const gone = await call(mcp.client, "list_flows");
      assert.equal(gone.isError, true);
      assert.match(gone.text, /^Cannot reach the API at http:\/\/127\.0\.0\.1:\d+: /);
      assert.ok(!gone.text.includes("\n"));
      assert.equal((await call(mcp.client, "get_options")).isError, true);
    } finally {
      await mcp.client.close();
    }
  });
});
