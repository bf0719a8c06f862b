// The Layer base (pausing on blocking commands, queueing) and the Playbook helper itself.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CallHook,
  type Command,
  Log,
  OpenConnection,
  SendData,
} from "../../src/proxy/core/commands.ts";
import { Client, Server } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import {
  DataReceived,
  type Event,
  HookAnswered,
  OpenConnectionCompleted,
  Start,
} from "../../src/proxy/core/events.ts";
import { type CommandGenerator, Layer } from "../../src/proxy/core/layer.ts";
import { any, Playbook, reply } from "./playbook.ts";

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);

function context(): Context {
  return new Context(
    new Client({ host: "127.0.0.1", port: 5000 }, { host: "127.0.0.1", port: 8080 }),
  );
}

/** Dials a server on Start, then forwards client bytes to it, upper-cased by a hook. */
class Forwarder extends Layer {
  server = new Server({ host: "example.com", port: 80 });
  *run(event: Event): CommandGenerator {
    if (event instanceof Start) {
      const error = (yield new OpenConnection(this.server)) as string | null;
      if (error) yield new Log(`dial failed: ${error}`, "warn");
      return;
    }
    if (event instanceof DataReceived && event.conn === this.context.client) {
      const text = new TextDecoder().decode(event.data);
      const data = (yield new CallHook("tcp_message", { text })) as { text: string };
      yield new SendData(this.server, b(data.text));
    }
  }
}

describe("Layer base", () => {
  test("a blocking command pauses the layer; events meanwhile are queued and replayed", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    const start = layer.handleEvent(new Start());
    assert.equal(start.length, 1);
    assert.ok(start[0] instanceof OpenConnection);
    assert.equal(layer.paused, true);
    // Data before the dial completes waits inside the layer.
    assert.deepEqual(layer.handleEvent(new DataReceived(ctx.client, b("a"))), []);
    const pb = new Playbook(layer);
    pb.send(new OpenConnectionCompleted(start[0] as OpenConnection))
      .expect(new CallHook("tcp_message", { text: "a" })).check();
    assert.equal(layer.paused, true);
  });

  test("a parent passing on a child's blocking command does not pause itself", () => {
    const ctx = context();
    const child = new Forwarder(ctx);
    class Parent extends Layer {
      *run(event: Event): CommandGenerator {
        yield child.handleEvent(event);
      }
    }
    const parent = new Parent(ctx);
    const [dial] = parent.handleEvent(new Start());
    assert.equal(parent.paused, false);
    assert.equal(child.paused, true);
    new Playbook(parent, { hooks: false })
      .send(new OpenConnectionCompleted(dial as OpenConnection))
      .send(new DataReceived(ctx.client, b("x")))
      .expect(new SendData(child.server, b("x")))
      .check();
  });
});

describe("Layer base: batches", () => {
  test("a yielded batch is passed on in order, and the layer goes on after it", () => {
    const ctx = context();
    const server = new Server({ host: "example.com", port: 80 });
    class Batcher extends Layer {
      *run(_event: Event): CommandGenerator {
        yield [new SendData(server, b("a")), new SendData(server, b("b"))];
        yield [];
        yield new SendData(server, b("c"));
      }
    }
    assert.deepEqual(new Batcher(ctx).handleEvent(new Start()), [
      new SendData(server, b("a")),
      new SendData(server, b("b")),
      new SendData(server, b("c")),
    ]);
  });

  test("a blocking command of the layer's own in a batch is an error, not a lost answer", () => {
    const ctx = context();
    const server = new Server({ host: "example.com", port: 80 });
    class Wrong extends Layer {
      *run(_event: Event): CommandGenerator {
        const error = (yield [new OpenConnection(server)]) as string | null;
        yield new Log(`never reached: ${error}`, "info");
      }
    }
    assert.throws(() => new Wrong(ctx).handleEvent(new Start()), /blocking .* in a batch/);
  });
});

describe("Layer base: speed", () => {
  test("a hook no one listens to is not yielded: the layer goes on with its data unchanged", () => {
    const client = new Client({ host: "127.0.0.1", port: 5000 }, { host: "127.0.0.1", port: 8080 });
    const asked: string[] = [];
    const options = {
      ...DEFAULT_LAYER_OPTIONS,
      hookListened: (name: string) => (asked.push(name), name !== "tcp_message"),
    };
    const layer = new Forwarder(new Context(client, options));
    const [dial] = layer.handleEvent(new Start());
    // No CallHook, no pause: the bytes go straight on.
    assert.deepEqual(
      layer.handleEvent(new OpenConnectionCompleted(dial as OpenConnection))
        .concat(layer.handleEvent(new DataReceived(client, b("hi")))),
      [new SendData(layer.server, b("hi"))],
    );
    assert.equal(layer.paused, false);
    assert.deepEqual(asked, ["tcp_message"]);
    // A hook someone listens to is still yielded (and pauses the layer).
    const listened = new Forwarder(
      new Context(client, { ...DEFAULT_LAYER_OPTIONS, hookListened: () => true }),
    );
    const [dial2] = listened.handleEvent(new Start());
    listened.handleEvent(new OpenConnectionCompleted(dial2 as OpenConnection));
    const out = listened.handleEvent(new DataReceived(client, b("hi")));
    assert.ok(out[0] instanceof CallHook && out[0].name === "tcp_message");
    assert.equal(listened.paused, true);
  });

  test("passThrough: events go straight to the child, except while the parent is paused", () => {
    const ctx = context();
    const child = new Forwarder(ctx);
    const seen: string[] = [];
    class Parent extends Layer {
      *run(event: Event): CommandGenerator {
        seen.push(event.constructor.name);
        if (event instanceof Start) {
          // The parent's own blocking step first; then it only hands events on.
          yield new CallHook("parent_hook", {});
          this.passThrough(child);
          yield child.handleEvent(event);
          return;
        }
        yield child.handleEvent(event);
      }
    }
    const parent = new Parent(ctx);
    const [hook] = parent.handleEvent(new Start());
    assert.ok(hook instanceof CallHook && parent.paused);
    // Queued in the parent while it waits: replayed through run() once it goes on.
    assert.deepEqual(parent.handleEvent(new DataReceived(ctx.client, b("early"))), []);
    const [dial] = parent.handleEvent(new HookAnswered(hook));
    assert.ok(dial instanceof OpenConnection);
    assert.deepEqual(seen, ["Start", "DataReceived"]);
    // From now on run() is not called: the child answers directly, in order.
    const out = parent.handleEvent(new OpenConnectionCompleted(dial));
    assert.equal(out.length, 1);
    assert.ok(out[0] instanceof CallHook && out[0].name === "tcp_message");
    assert.deepEqual((out[0] as CallHook<{ text: string }>).data, { text: "early" });
    assert.deepEqual(seen, ["Start", "DataReceived"]);
  });
});

describe("Playbook", () => {
  test("passes on the exact conversation, merging consecutive sends", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .expect(new OpenConnection(layer.server))
      .send(reply())
      .send(new DataReceived(ctx.client, b("he")))
      .expect(new SendData(layer.server, b("h")), new SendData(layer.server, b("e")))
      .check();
  });

  test("fails with a diff naming the first differing entry", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .expect(new OpenConnection(new Server({ host: "other.example", port: 80 })));
    assert.throws(() => pb.check(), (e: Error) => {
      assert.match(e.message, /mismatch at entry 1/);
      assert.match(e.message, /!! actual {3}<< OpenConnection\(s\d+ example\.com:80\)/);
      return true;
    });
  });

  test("fails when the layer yields more than expected, or less", () => {
    const ctx = context();
    const more = new Playbook(new Forwarder(ctx)).send(new Start());
    assert.throws(() => more.check(), /\(nothing\)/);
    const layer = new Forwarder(ctx);
    const less = new Playbook(layer, { hooks: false })
      .send(new Start())
      .expect(new OpenConnection(layer.server), new SendData(ctx.client, b("?")));
    assert.throws(() => less.check(), /mismatch at entry 2/);
  });

  test("byte content matters, not identity", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .expect(new OpenConnection(layer.server))
      .send(reply())
      .send(new DataReceived(ctx.client, b("abc")))
      .expect(new SendData(layer.server, b("abd")));
    assert.throws(() => pb.check(), /SendData\(s\d+, "abc"\)/);
  });

  test("logs are ignored unless asked for; then they must match", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    new Playbook(layer).send(new Start()).expect(new OpenConnection(layer.server))
      .send(reply("connection refused")).check();
    const layer2 = new Forwarder(ctx);
    new Playbook(layer2, { logs: true }).send(new Start())
      .expect(new OpenConnection(layer2.server))
      .send(reply("connection refused"))
      .expect(new Log("dial failed: connection refused", "warn"))
      .check();
  });

  test("placeholders bind on first use and must then agree", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    const data = any<{ text: string }>("hook data");
    const pb = new Playbook(layer)
      .send(new Start())
      .expect(new OpenConnection(layer.server))
      .send(reply())
      .send(new DataReceived(ctx.client, b("q")))
      .expect(new CallHook("tcp_message", data))
      .send(reply(null, (d) => ((d as { text: string }).text = "Q")))
      .expect(new SendData(layer.server, b("Q")))
      .check();
    assert.deepEqual(data.value, { text: "Q" });
    assert.ok(pb.last(CallHook) instanceof CallHook);
  });

  test("check() can be called step by step", () => {
    const ctx = context();
    const layer = new Forwarder(ctx);
    const pb = new Playbook(layer, { hooks: false });
    pb.send(new Start()).expect(new OpenConnection(layer.server)).check();
    pb.send(reply()).send(new DataReceived(ctx.client, b("z")))
      .expect(new SendData(layer.server, b("z"))).check();
    const all: Command[] = pb.commands;
    assert.equal(all.length, 3); // OpenConnection, CallHook (auto-answered), SendData
  });
});
