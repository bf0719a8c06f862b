/**
 * ws:// through the proxy (absolute-form Upgrade), end to end: a raw WebSocket client, the proxy,
 * and a `ws` origin on 127.0.0.1. Messages both ways, fragmentation, control frames, the close
 * handshake, hooks that change, drop and inject messages, and how failures end the flow.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Addon } from "../../src/addons/types.ts";
import { Opcode } from "../../src/websocket/mod.ts";
import { eventually } from "./https_helpers.ts";
import {
  doneWebSocketFlow,
  pattern,
  RawWsClient,
  utf8,
  withWsProxy,
  wsOrigin,
} from "./websocket_helpers.ts";

test("ws:// text, 200 KiB binary, fragments both ways, ping/pong and the close handshake", async () => {
  const origin = await wsOrigin();
  try {
    await withWsProxy({}, [], async (proxy, seen) => {
      const ws = await RawWsClient.open({
        proxyPort: proxy.address.port,
        originPort: origin.port,
      });
      assert.match(ws.head, /^HTTP\/1\.1 101 /);

      ws.text("hello");
      assert.equal((await ws.next()).text, "echo: hello");

      const big = pattern(200 * 1024);
      ws.binary(big);
      const back = await ws.next();
      assert.equal(back.opcode, Opcode.Binary);
      assert.deepEqual(back.payload, big);
      assert.deepEqual(new Uint8Array(origin.received[1].data), big);

      ws.fragments(["one ", "two ", "three"]);
      assert.equal((await ws.next()).text, "echo: one two three");
      assert.equal(String(origin.received[2].data), "one two three");

      // Unchanged messages keep their framing on the way through.
      ws.text("cmd:fragments");
      const fragmented = await ws.next();
      assert.equal(fragmented.text, "frag-ment-ed");
      assert.equal(fragmented.frames, 3);

      ws.frame(Opcode.Ping, "are you there");
      const pong = await ws.next();
      assert.equal(pong.opcode, Opcode.Pong);
      assert.equal(pong.text, "are you there");
      assert.deepEqual(origin.pings, ["are you there"]);

      ws.text("cmd:ping");
      const ping = await ws.next();
      assert.equal(ping.opcode, Opcode.Ping);
      assert.equal(ping.text, "from the origin");
      ws.frame(Opcode.Pong, "from the origin");

      ws.close(4001, "client says bye");
      const close = await ws.next();
      assert.equal(close.opcode, Opcode.Close);
      assert.equal((close.payload[0] << 8) | close.payload[1], 4001);
      assert.equal(utf8(close.payload.subarray(2)), "client says bye");
      await ws.closed();
      assert.ok(await eventually(() => origin.closes.length === 1));
      assert.deepEqual(origin.closes[0], { code: 4001, reason: "client says bye" });

      const flow = await doneWebSocketFlow(seen);
      const wsd = flow.websocket!;
      assert.equal(flow.response?.status, 101);
      assert.equal(flow.error, null);
      assert.equal(wsd.closeCode, 4001);
      assert.equal(wsd.closeReason, "client says bye");
      assert.equal(wsd.closedByClient, true);
      assert.ok(wsd.timestampEnd !== null);
      const summary = wsd.messages.map((m) =>
        `${m.fromClient ? ">" : "<"} ${m.type} ${
          m.type === "binary"
            ? m.content.length
            : m.type === "close"
            ? `${m.closeCode} ${m.closeReason}`
            : m.text
        }`
      );
      assert.deepEqual(summary, [
        "> text hello",
        "< text echo: hello",
        `> binary ${200 * 1024}`,
        `< binary ${200 * 1024}`,
        "> text one two three",
        "< text echo: one two three",
        "> text cmd:fragments",
        "< text frag-ment-ed",
        "> ping are you there",
        "< pong are you there",
        "> text cmd:ping",
        "< ping from the origin",
        "> pong from the origin",
        "> close 4001 client says bye",
        "< close 4001 client says bye",
      ]);
      assert.deepEqual(seen.hooks.filter((h) => h !== "websocket_message"), [
        "websocket_start",
        "websocket_end",
        "flow_done",
      ]);
      assert.equal(seen.hooks.filter((h) => h === "websocket_message").length, 15);
    });
  } finally {
    await origin.close();
  }
});

test("an addon changes one message, drops one, and injects messages both ways", async () => {
  const origin = await wsOrigin();
  const addon: Addon = {
    websocket_message(flow) {
      const ws = flow.websocket!;
      const m = ws.messages.at(-1)!;
      if (m.fromClient && m.text === "secret") m.text = "[redacted]";
      if (m.fromClient && m.text === "drop me") m.drop();
      if (!m.fromClient && m.text === "echo: inject please") {
        ws.inject(true, "injected to the client");
        ws.inject(false, "injected to the server");
      }
      if (!m.fromClient && m.text === "echo: [redacted]") m.content = new Uint8Array([1, 2, 3]);
    },
  };
  try {
    await withWsProxy({}, [addon], async (proxy, seen) => {
      const ws = await RawWsClient.open({ proxyPort: proxy.address.port, originPort: origin.port });
      ws.text("secret");
      const changed = await ws.next();
      assert.equal(changed.opcode, Opcode.Text);
      assert.deepEqual(changed.payload, new Uint8Array([1, 2, 3]));
      ws.text("drop me");
      ws.text("inject please");
      assert.equal((await ws.next()).text, "echo: inject please");
      assert.equal((await ws.next()).text, "injected to the client");
      // The origin echoes what was injected to it.
      assert.equal((await ws.next()).text, "echo: injected to the server");
      assert.deepEqual(origin.received.map((r) => String(r.data)), [
        "[redacted]",
        "inject please",
        "injected to the server",
      ]);
      ws.close(1000, "");
      await ws.next();
      await ws.closed();

      const flow = await doneWebSocketFlow(seen);
      const messages = flow.websocket!.messages;
      const dropped = messages.find((m) => m.text === "drop me")!;
      assert.equal(dropped.dropped, true);
      const injected = messages.filter((m) => m.injected).map((m) => [m.fromClient, m.text]);
      assert.deepEqual(injected, [
        [false, "injected to the client"],
        [true, "injected to the server"],
      ]);
      assert.equal(messages[0].text, "[redacted]");
    });
  } finally {
    await origin.close();
  }
});

test("an addon can inject outside its hooks, at once", async () => {
  const origin = await wsOrigin();
  try {
    let started: (() => void) | null = null;
    const addon: Addon = {
      websocket_start(flow) {
        // Inject from a timer: no hook is running then.
        setTimeout(() => {
          flow.websocket!.inject(true, "tick");
          started?.();
        }, 100);
      },
    };
    await withWsProxy({}, [addon], async (proxy) => {
      const ws = await RawWsClient.open({ proxyPort: proxy.address.port, originPort: origin.port });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve, reject) => {
        started = resolve;
        timer = setTimeout(() => reject(new Error("websocket_start did not run")), 10_000);
      }).finally(() => clearTimeout(timer));
      assert.equal((await ws.next()).text, "tick");
      ws.destroy();
    });
  } finally {
    await origin.close();
  }
});

test("a client that hangs up without a close frame ends the flow with 1006", async () => {
  const origin = await wsOrigin();
  try {
    await withWsProxy({}, [], async (proxy, seen) => {
      const ws = await RawWsClient.open({ proxyPort: proxy.address.port, originPort: origin.port });
      ws.text("hi");
      await ws.next();
      ws.socket.end();
      const flow = await doneWebSocketFlow(seen);
      assert.equal(flow.websocket!.closeCode, 1006);
      assert.equal(flow.websocket!.closedByClient, true);
      assert.match(flow.error?.message ?? "", /client closed the connection without a close frame/);
      assert.ok(await eventually(() => origin.closes.length === 1));
      assert.equal(origin.closes[0].code, 1006);
      ws.destroy();
    });
  } finally {
    await origin.close();
  }
});

test("a client frame without a mask fails the connection: 1002 to both peers", async () => {
  const origin = await wsOrigin();
  try {
    await withWsProxy({}, [], async (proxy, seen) => {
      const ws = await RawWsClient.open({ proxyPort: proxy.address.port, originPort: origin.port });
      ws.frame(Opcode.Text, "not masked", { masked: false });
      const close = await ws.next();
      assert.equal(close.opcode, Opcode.Close);
      assert.equal((close.payload[0] << 8) | close.payload[1], 1002);
      await ws.closed();
      const flow = await doneWebSocketFlow(seen);
      assert.equal(flow.websocket!.closeCode, 1002);
      assert.match(flow.error?.message ?? "", /client broke the protocol/);
      assert.ok(await eventually(() => origin.closes.length === 1));
      assert.equal(origin.closes[0].code, 1002);
      assert.equal(origin.received.length, 0);
    });
  } finally {
    await origin.close();
  }
});

test("an idle WebSocket outlives idle_timeout", async () => {
  const origin = await wsOrigin();
  try {
    await withWsProxy({ idle_timeout: 1 }, [], async (proxy) => {
      const ws = await RawWsClient.open({ proxyPort: proxy.address.port, originPort: origin.port });
      await new Promise((r) => setTimeout(r, 2500));
      ws.text("still there?");
      assert.equal((await ws.next()).text, "echo: still there?");
      ws.destroy();
    });
  } finally {
    await origin.close();
  }
});

test("a slow websocket_message hook holds up only its own flow", async () => {
  const origin = await wsOrigin();
  let release: (() => void) | null = null;
  const addon: Addon = {
    async websocket_message(flow) {
      if (flow.websocket!.messages.at(-1)!.text === "slow") {
        await new Promise<void>((r) => (release = r));
      }
    },
  };
  try {
    await withWsProxy({}, [addon], async (proxy) => {
      const slow = await RawWsClient.open({
        proxyPort: proxy.address.port,
        originPort: origin.port,
      });
      const fast = await RawWsClient.open({
        proxyPort: proxy.address.port,
        originPort: origin.port,
      });
      slow.text("slow");
      assert.ok(await eventually(() => release !== null));
      fast.text("fast");
      assert.equal((await fast.next()).text, "echo: fast");
      assert.equal(origin.received.length, 1, "the slow message waits for its hook");
      release!();
      assert.equal((await slow.next()).text, "echo: slow");
      slow.destroy();
      fast.destroy();
    });
  } finally {
    await origin.close();
  }
});
