/**
 * MCP test helpers: traffic through the proxy with curl (to the API tests' origin), and one
 * scenario that calls every tool on real flows and checks what an agent gets back. The
 * transports' tests run it through the SDK's own client.
 */
import assert from "node:assert/strict";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { curl, type RunResult } from "../e2e/helpers.ts";
import { BIG, type Origin, PNG } from "../api/helpers.ts";

export const TOOL_NAMES = [
  "diff_flows",
  "export_har",
  "get_flow",
  "get_options",
  "kill_flow",
  "list_flows",
  "replay_flow",
  "resume_flow",
  "set_intercept",
  "set_option",
];

/** The first message of a raw MCP session (the SDK's clients send it themselves). */
export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "raw", version: "1" },
  },
};

export interface McpProcess {
  client: Client;
  /** What the server wrote on stderr so far. */
  stderr(): string;
  /** Errors the client saw, such as a line on stdout that is not a protocol message. */
  errors: Error[];
}

/** Starts an MCP server on stdio (`mitm mcp ...`) and connects the SDK client to it. */
export async function spawnMcp(
  server: { command: string; args: string[]; env: Record<string, string>; cwd?: string },
): Promise<McpProcess> {
  const transport = new StdioClientTransport({ ...server, stderr: "pipe" });
  let stderr = "";
  transport.stderr!.on("data", (d: Uint8Array) => (stderr += String(d)));
  const client = new Client({ name: "mitm-test", version: "1" });
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`${(e as Error).message}; stderr:\n${stderr}`);
  }
  return { client, stderr: () => stderr, errors };
}

/** The first match of `re` in what `get` returns, waiting up to 30 s for it. */
export async function waitForText(
  what: string,
  get: () => string,
  re: RegExp,
): Promise<RegExpExecArray> {
  const end = Date.now() + 30_000;
  for (;;) {
    const m = re.exec(get());
    if (m) return m;
    if (Date.now() > end) throw new Error(`no ${what} in:\n${get()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One request through the proxy with curl. */
export function curlVia(proxyUrl: string, url: string, args: string[] = []): Promise<RunResult> {
  return curl(["--noproxy", "", "-x", proxyUrl, ...args, url]);
}

type ToolResult = { text: string; isError: boolean };

export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolResult> {
  const result = await client.callTool({ name, arguments: args }) as {
    content: { type: string; text: string }[];
    isError?: boolean;
  };
  assert.equal(result.content[0].type, "text");
  return { text: result.content[0].text, isError: result.isError === true };
}

/** The text of a successful call. */
export async function ok(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<string> {
  const r = await call(client, name, args);
  assert.equal(r.isError, false, `${name} failed: ${r.text}`);
  return r.text;
}

/** The sentence of a failed call: a tool error of one line. */
async function fails(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  expected: RegExp,
): Promise<void> {
  const r = await call(client, name, args);
  assert.equal(r.isError, true, `${name} should fail: ${r.text}`);
  assert.match(r.text, expected);
  assert.ok(!r.text.includes("\n"), `one line: ${r.text}`);
}

/** Flow lines of a list_flows answer: id, method and URL. */
function flowsIn(text: string): { id: string; method: string; url: string; line: string }[] {
  return [...text.matchAll(/^(\S{10,}) ([A-Z]+) (\S+) -> .*$/gm)].map((m) => ({
    id: m[1],
    method: m[2],
    url: m[3],
    line: m[0],
  }));
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The flow matching `filter` once it is paused at `phase`. */
function pausedFlow(client: Client, filter: string, phase: string): Promise<string> {
  return waitFor(`a flow paused at ${phase}`, async () => {
    const flow = flowsIn(await ok(client, "list_flows", { filter })).find((f) =>
      f.line.includes(`[paused at ${phase}]`)
    );
    return flow?.id;
  });
}

/**
 * Lists the tools and calls each on flows made through the proxy at `proxyUrl` to `origin`,
 * checking the answers an agent gets. Expects a proxy with no flows yet.
 */
export async function exerciseAllTools(
  client: Client,
  proxyUrl: string,
  origin: Origin,
): Promise<void> {
  const base = `http://127.0.0.1:${origin.port}`;
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), TOOL_NAMES);
  for (const t of tools) {
    assert.ok((t.description ?? "").length > 60, `${t.name} has a description`);
    assert.equal(t.inputSchema.type, "object");
  }

  for (const path of ["/json", "/gzip", "/png", "/big"]) {
    const r = await curlVia(proxyUrl, `${base}${path}`, ["-o", "/dev/null"]);
    assert.equal(r.code, 0, r.stderr);
  }
  const post = await curlVia(proxyUrl, `${base}/echo`, [
    "-d",
    "a=1",
    "-H",
    "Cookie: session=s3cr3t-cookie",
  ]);
  assert.equal(post.stdout, "origin: POST /echo x-edit= body=a=1");

  // list_flows: all, filtered, bounded, paged with the cursor; a bad filter is a tool error.
  const all = flowsIn(await ok(client, "list_flows"));
  assert.deepEqual(all.map((f) => new URL(f.url).pathname), [
    "/json",
    "/gzip",
    "/png",
    "/big",
    "/echo",
  ]);
  const id = (path: string) => all.find((f) => new URL(f.url).pathname === path)!.id;
  assert.match(all[0].line, / -> 200 application\/json 27b \d+ms$/);
  const posts = await ok(client, "list_flows", { filter: "~m POST" });
  assert.deepEqual(flowsIn(posts).map((f) => f.id), [id("/echo")]);
  const newest = await ok(client, "list_flows", { limit: 2 });
  assert.deepEqual(flowsIn(newest).map((f) => f.id), [id("/big"), id("/echo")]);
  assert.match(newest, /3 older ones are not shown/);
  const page = await ok(client, "list_flows", { cursor: id("/json"), limit: 2 });
  assert.deepEqual(flowsIn(page).map((f) => f.id), [id("/gzip"), id("/png")]);
  assert.match(page, new RegExp(`cursor: ${id("/png")}$`));
  await fails(client, "list_flows", { filter: "~nope" }, /bad filter/i);

  // get_flow: headers, decoded bodies as text, binary as hex, bounded with a note.
  const json = await ok(client, "get_flow", { id: id("/json") });
  assert.match(json, new RegExp(`^GET ${base}/json HTTP/1.1$`, "m"));
  assert.match(json, /^HTTP\/1.1 200 OK$/m);
  assert.match(json, /^Content-Type: application\/json$/m);
  assert.match(json, /^\{"hello":"world","n":\[1,2\]\}$/m);
  const gzip = await ok(client, "get_flow", { id: id("/gzip") });
  assert.match(gzip, /^Content-Encoding: gzip$/m);
  assert.match(gzip, /^zipped text from the origin$/m);
  const png = await ok(client, "get_flow", { id: id("/png") });
  assert.ok(
    png.includes(`[binary body, ${PNG.length} bytes, image/png; first bytes: 89 50 4e 47 0d 0a`),
    png,
  );
  const big = await ok(client, "get_flow", { id: id("/big") });
  assert.match(big, new RegExp(`body truncated: showing the first 65536 of ${BIG} bytes`));
  assert.ok(big.length < 70_000, `bounded: ${big.length} characters`);
  const small = await ok(client, "get_flow", { id: id("/big"), max_body_bytes: 1000 });
  assert.match(small, new RegExp(`showing the first 1000 of ${BIG} bytes`));
  const echo = await ok(client, "get_flow", { id: id("/echo") });
  assert.match(echo, /^Cookie: session=s3cr3t-cookie$/m);
  assert.match(echo, /^a=1$/m);
  await fails(client, "get_flow", { id: "no-such-flow" }, /^No flow no-such-flow: .*list_flows/);

  // replay_flow with changes; diff_flows shows them.
  const replayed = await ok(client, "replay_flow", {
    id: id("/echo"),
    changes: { set_headers: { "X-Edit": "yes" }, body: "b=2" },
  });
  const again = flowsIn(replayed)[0];
  assert.ok(again, replayed);
  assert.match(again.line, / -> 200 text\/plain .*\[replay\]/);
  const seen = origin.requests.at(-1)!;
  assert.equal(seen.headers["x-edit"], "yes");
  assert.equal(seen.body, "b=2");
  const diff = await ok(client, "diff_flows", { a: id("/echo"), b: again.id });
  assert.match(diff, /^ {2}\+ X-Edit: yes$/m);
  assert.match(diff, /^request body: differs/m);
  assert.match(diff, /^ {2}- a=1$/m);
  assert.match(diff, /^ {2}\+ b=2$/m);
  assert.match(diff, /^response body: differs/m);
  await fails(client, "replay_flow", { id: "no-such-flow" }, /^No flow no-such-flow/);

  // export_har: a filter; bodies left out to fit max_bytes.
  const har = JSON.parse(await ok(client, "export_har", { filter: "~u /json" }));
  assert.equal(har.log.version, "1.2");
  assert.deepEqual(har.log.entries.map((e: { request: { url: string } }) => e.request.url), [
    `${base}/json`,
  ]);
  const bounded = await ok(client, "export_har", { filter: "~u /big", max_bytes: 4096 });
  assert.ok(bounded.length <= 4096, `${bounded.length}`);
  const content = JSON.parse(bounded).log.entries[0].response.content;
  assert.equal(content.text, undefined);
  assert.match(content.comment, /left out to fit max_bytes/);

  // get_options / set_option.
  assert.match(await ok(client, "get_options"), /^connect_timeout = 10 - /m);
  assert.equal(
    await ok(client, "set_option", { name: "connect_timeout", value: "5" }),
    "connect_timeout = 5",
  );
  assert.match(await ok(client, "get_options"), /^connect_timeout = 5 - /m);
  await ok(client, "set_option", { name: "connect_timeout", value: 10 });
  await fails(
    client,
    "set_option",
    { name: "no_such", value: 1 },
    /^Unknown option "no_such"; get_options/,
  );
  await fails(
    client,
    "set_option",
    { name: "listen_port", value: 1 },
    /cannot be changed while running/,
  );

  // Interception: pause, change the request, pause at the response, change it; kill another.
  assert.match(await ok(client, "set_intercept", { filter: "~u /held" }), /Intercepting flows/);
  const held = curlVia(proxyUrl, `${base}/held`, ["-i"]);
  const heldId = await pausedFlow(client, "~u /held", "request");
  assert.match(await ok(client, "get_flow", { id: heldId }), /paused at request/);
  await fails(client, "resume_flow", {
    id: heldId,
    changes: { response: { status: 500 } },
  }, /paused at its request/);
  await ok(client, "resume_flow", {
    id: heldId,
    changes: { request: { set_headers: { "X-Edit": "from-agent" } } },
  });
  await pausedFlow(client, "~u /held", "response");
  await ok(client, "resume_flow", {
    id: heldId,
    changes: { response: { status: 201, body: "changed by the agent" } },
  });
  const heldAnswer = await held;
  assert.equal(heldAnswer.code, 0, heldAnswer.stderr);
  assert.match(heldAnswer.stdout, /^HTTP\/1.1 201 /);
  assert.match(heldAnswer.stdout, /\r\n\r\nchanged by the agent$/);
  assert.equal(origin.requests.at(-1)!.headers["x-edit"], "from-agent");
  await fails(client, "resume_flow", { id: heldId }, /is not paused/);

  const doomed = curlVia(proxyUrl, `${base}/held-kill`);
  const doomedId = await pausedFlow(client, "~u /held-kill", "request");
  assert.match(await ok(client, "kill_flow", { id: doomedId }), /Killed flow/);
  assert.notEqual((await doomed).code, 0);
  await fails(client, "kill_flow", { id: doomedId }, /is not paused/);
  assert.match(await ok(client, "set_intercept", { filter: "" }), /Interception is off/);
  assert.ok(!origin.requests.some((r) => r.line.startsWith("GET /held-kill")));
}
