// Client deadlines in the HTTP/1 server layer: idle between requests, and the time a request head
// may take. Timers are commands (Arm/Disarm) and their firing an event (Wakeup): no real time.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Arm,
  CallHook,
  CloseConnection,
  Disarm,
  OpenConnection,
  SendData,
} from "../../src/proxy/core/commands.ts";
import type { Server } from "../../src/proxy/core/connection.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { DataReceived, Start, Wakeup } from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const OPTIONS = { idleTimeoutMs: 60_000, headerTimeoutMs: 30_000 };

test("a connection idle for idle_timeout is closed", () => {
  const ctx = context(OPTIONS);
  const pb = new Playbook(new HttpLayer(ctx, REGULAR)).send(new Start()).expect(new Arm(60_000));
  pb.check();
  pb.send(new Wakeup(pb.last(Arm))).expect(new CloseConnection(ctx.client)).check();
});

test("a request head not complete within header_timeout gets a 408", () => {
  const ctx = context(OPTIONS);
  const body = "mitm.ts: request head not complete after 30 s; closing the connection.\n";
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .expect(new Arm(60_000))
    .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHo")))
    .expect(new Disarm(any("idle timer")), new Arm(30_000));
  pb.check();
  pb.send(new Wakeup(pb.last(Arm)))
    .expect(
      new SendData(
        ctx.client,
        b(
          "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n" +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      ),
      new CloseConnection(ctx.client),
    )
    .check();
});

test("the head completing disarms; after the response the idle timer runs again", () => {
  const ctx = context(OPTIONS);
  const server = any<Server>("server");
  new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .expect(new Arm(60_000))
    .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .expect(new Disarm(any("idle")))
    .expect(new OpenConnection(server))
    .send(reply())
    .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .send((p) =>
      new DataReceived(p.last(OpenConnection).conn, b("HTTP/1.1 204 No Content\r\n\r\n"))
    )
    .expect(new SendData(ctx.client, b("HTTP/1.1 204 No Content\r\n\r\n")), new Arm(60_000))
    .check();
});

test("an origin that does not start its response within read_timeout: 504 naming it", () => {
  const ctx = context({ readTimeoutMs: 5000 });
  const server = any<Server>("server");
  const body = "mitm.ts: slow.test sent no response within 5 s (read_timeout).\n";
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .send(
      new DataReceived(ctx.client, b("GET http://slow.test/ HTTP/1.1\r\nHost: slow.test\r\n\r\n")),
    )
    .expect(new OpenConnection(server))
    .send(reply())
    .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: slow.test\r\n\r\n")), new Arm(5000));
  pb.check();
  pb.send(new Wakeup(pb.last(Arm)))
    .expect(
      new CloseConnection(server),
      new SendData(
        ctx.client,
        b(
          "HTTP/1.1 504 Gateway Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n" +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      ),
      new CloseConnection(ctx.client),
    )
    .check();
});

test("a pooled origin connection unused for origin_idle_timeout is closed; reuse disarms", () => {
  const ctx = context({ originIdleTimeoutMs: 30_000 });
  const server = any<Server>("server");
  const req = "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n";
  const res = "HTTP/1.1 204 No Content\r\n\r\n";
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .send(new DataReceived(ctx.client, b(req)))
    .expect(new OpenConnection(server))
    .send(reply())
    .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .send((p) => new DataReceived(p.last(OpenConnection).conn, b(res)))
    .expect(new Arm(30_000), new SendData(ctx.client, b(res)))
    .send(new DataReceived(ctx.client, b(req)))
    .expect(
      new Disarm(any("idle")),
      new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")),
    )
    .send((p) => new DataReceived(p.last(OpenConnection).conn, b(res)))
    .expect(new Arm(30_000), new SendData(ctx.client, b(res)));
  pb.check();
  pb.send(new Wakeup(pb.last(Arm))).expect(new CloseConnection(server.value)).check();
});

// ---- body_timeout: a body must keep bringing bytes; checked once per period ----

const UPLOAD = "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc";

test("an upload that brings nothing for body_timeout gets 408; its origin connection closes", () => {
  const ctx = context({ bodyTimeoutMs: 1000, holdRequestBodies: false });
  const server = any<Server>("server");
  const why = "the client stopped sending the request body for 1 s (body_timeout)";
  const body = `mitm.ts: ${why}; closing the connection.\n`;
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .send(new DataReceived(ctx.client, b(UPLOAD)))
    .expect(new Arm(1000, ctx.client), new OpenConnection(server))
    .send(reply())
    .expect(
      new SendData(server, b("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")),
    );
  pb.check();
  pb.send(new Wakeup(pb.last(Arm)))
    .expect(
      new CloseConnection(server),
      new SendData(
        ctx.client,
        b(
          "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n" +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      ),
      // The upload is unfinished: the close lingers so that a slow client still sees the 408.
      new CloseConnection(ctx.client, false, true),
    )
    .check();
  const done = pb.commands.find((c) => c instanceof CallHook && c.name === "flow_done");
  assert.equal((done as CallHook<Flow>).data.error?.message, why);
});

test("an upload that keeps bringing bytes, however slowly, is given another period", () => {
  const ctx = context({ bodyTimeoutMs: 1000, holdRequestBodies: false });
  const server = any<Server>("server");
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .send(new DataReceived(ctx.client, b(UPLOAD)))
    .expect(new Arm(1000, ctx.client), new OpenConnection(server))
    .send(reply())
    .expect(
      new SendData(server, b("POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")),
    )
    .send(new DataReceived(ctx.client, b("def")))
    .expect(new SendData(server, b("def")));
  pb.check();
  // Bytes came during the period: one more; the body ending disarms it.
  pb.send(new Wakeup(pb.last(Arm)))
    .expect(new Arm(1000, ctx.client))
    .send(new DataReceived(ctx.client, b("ghij")))
    .expect(new SendData(server, b("ghij")), new Disarm(any("body timer")))
    .check();
});

test("a streamed download that stops for body_timeout closes both; the flow says the body failed", () => {
  const ctx = context({ bodyTimeoutMs: 1000, holdResponseBodies: false });
  const server = any<Server>("server");
  const head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .expect(new OpenConnection(server))
    .send(reply())
    .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .send((p) => new DataReceived(p.last(OpenConnection).conn, b(head + "abc")))
    .expect(new Arm(1000, server), new SendData(ctx.client, b(head + "abc")));
  pb.check();
  pb.send(new Wakeup(pb.last(Arm)))
    .expect(new CloseConnection(server), new CloseConnection(ctx.client))
    .check();
  const done = pb.commands.find((c) => c instanceof CallHook && c.name === "flow_done");
  assert.equal(
    (done as CallHook<Flow>).data.error?.message,
    "response body failed: a.test:80 stopped sending the response body for 1 s (body_timeout)",
  );
});

test("a download held for a response hook that stops for body_timeout gets 502 saying why", () => {
  const ctx = context({ bodyTimeoutMs: 1000 });
  const server = any<Server>("server");
  const answer = any<Uint8Array>("answer");
  const pb = new Playbook(new HttpLayer(ctx, REGULAR), { hooks: false })
    .send(new Start())
    .send(new DataReceived(ctx.client, b("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .expect(new OpenConnection(server))
    .send(reply())
    .expect(new SendData(server, b("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")))
    .send((p) =>
      new DataReceived(
        p.last(OpenConnection).conn,
        b("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
      )
    )
    .expect(new Arm(1000, server));
  pb.check();
  pb.send(new Wakeup(pb.last(Arm)))
    .expect(new CloseConnection(server), new SendData(ctx.client, answer))
    .expect(new CloseConnection(ctx.client))
    .check();
  const text = new TextDecoder().decode(answer.value);
  assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  assert.match(text, /stopped sending the response body for 1 s \(body_timeout\)\.\n$/);
});
