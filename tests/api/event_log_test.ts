/** The event log: recent log lines (GET /api/log) and new ones as they come (SSE). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { EventLog } from "../../src/api/event_log.ts";
import { startWeb } from "../../src/api/web.ts";
import { createLogger, startProxy } from "../../mod.ts";
import { testCa } from "../fixtures/ca.ts";
import { curl } from "../e2e/helpers.ts";
import { waitFor } from "./helpers.ts";

test("the ring keeps the newest lines, counts the dropped, and cuts long messages", () => {
  const log = new EventLog();
  const seen: string[] = [];
  const stop = log.subscribe((l) => seen.push(l.message));
  for (let i = 1; i <= 2005; i++) log.push("info", `line ${i}`);
  stop();
  log.push("warn", "x".repeat(5000));
  assert.equal(seen.length, 2005);
  assert.equal(log.dropped, 6);
  const recent = log.recent(2004);
  assert.deepEqual(recent.map((l) => l.seq), [2005, 2006]);
  assert.equal(recent[1].level, "warn");
  assert.match(recent[1].message, /… \(1000 more characters\)$/);
  assert.deepEqual(log.recent(0, 2).map((l) => l.message.slice(0, 9)), ["line 2005", "xxxxxxxxx"]);
});

test("end to end: what the proxy logs is served by /api/log and streamed by /api/log/events", async () => {
  const eventLog = new EventLog();
  const printed: string[] = [];
  const log = createLogger("info", eventLog.tee((_level, m) => printed.push(m)));
  const proxy = await startProxy({ listen_port: 0 }, { ca: await testCa(), log });
  const web = await startWeb(proxy, { port: 0, token: "log-token-0123456789", eventLog });
  const auth = ["-H", `Authorization: Bearer ${web.token}`];
  const sse = spawn("curl", ["-sN", ...auth, `${web.url}/api/log/events?after=0`]);
  try {
    await proxy.addons.add({ name: "talker", load: (ctx) => ctx.log.info("hello from an addon") });
    assert.ok(printed.includes("hello from an addon"), "the console still gets it");
    const { lines } = JSON.parse((await curl([...auth, `${web.url}/api/log`])).stdout);
    const line = lines.find((l: { message: string }) => l.message === "hello from an addon");
    assert.equal(line.level, "info");
    assert.ok(line.seq >= 1 && line.time > 0);

    let events = "";
    sse.stdout.on("data", (d) => (events += d));
    await waitFor("the first line on the stream", () => events.includes("hello from an addon"));
    await proxy.addons.add({ name: "second", load: (ctx) => ctx.log.warn("a warning later") });
    await waitFor(
      "the new line on the stream",
      () => /event: log\ndata: .*a warning later/.test(events),
    );

    const bad = await curl(["-w", " %{http_code}", ...auth, `${web.url}/api/log?after=x`]);
    assert.match(bad.stdout, /whole numbers.* 400$/);
  } finally {
    sse.kill();
    await web.close();
    await proxy.close();
  }
});
