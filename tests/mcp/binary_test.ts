/**
 * `mitm mcp` inside the single executable (bun build --compile, as `npm run compile` builds it),
 * run from an empty directory with no node_modules: the SDK's stdio client calls every tool on
 * real flows through the proxy the binary starts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { bunCompileArgs } from "../../scripts/bun_compile.ts";
import { ROOT, run } from "../e2e/helpers.ts";
import { startOrigin } from "../api/helpers.ts";
import { exerciseAllTools, ok, spawnMcp, waitForText } from "./helpers.ts";

const TOKEN = "mcp-binary-token-0123456789";

test(
  "the compiled binary serves every MCP tool on stdio, and /mcp",
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "mitm-mcp-bin-"));
    try {
      const built = join(dir, "build", "mitm");
      const build = await run(
        join(ROOT, "node_modules", ".bin", "bun"),
        bunCompileArgs("cli.ts", built),
        {
          cwd: ROOT,
          timeoutMs: 200_000,
        },
      );
      assert.equal(build.code, 0, build.stderr + build.stdout);
      const lonely = join(dir, "mitm");
      copyFileSync(built, lonely);
      rmSync(join(dir, "build"), { recursive: true });

      const origin = await startOrigin();
      try {
        const mcp = await spawnMcp({
          command: lonely,
          args: ["mcp", "-p", "0", "--web-port", "0", "--confdir", join(dir, "conf")],
          env: { MITM_API_TOKEN: TOKEN },
          cwd: dir,
        });
        try {
          const m = await waitForText(
            "the proxy address",
            mcp.stderr,
            /proxy listening at (http:\/\/\S+)/,
          );
          await exerciseAllTools(mcp.client, m[1], origin);
          assert.deepEqual(mcp.errors.map((e) => e.message), []);

          // /mcp on the binary's web port sees the same flows.
          const web = /Web UI: {2}(http:\/\/\S+)/.exec(mcp.stderr())![1];
          const overHttp = new Client({ name: "mitm-test", version: "1" });
          await overHttp.connect(
            new StreamableHTTPClientTransport(new URL(`${web}/mcp`), {
              requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
            }),
          );
          try {
            assert.match(
              await ok(overHttp, "list_flows", { filter: "~u /json" }),
              /\/json -> 200 /,
            );
          } finally {
            await overHttp.close();
          }
        } finally {
          await mcp.client.close();
        }
      } finally {
        await origin.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
