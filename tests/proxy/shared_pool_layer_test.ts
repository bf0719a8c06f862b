// The HTTP layer with the shared origin pool (sharedOriginPool): a client keeps its idle origin
// connection while it asks for the same origin; it is parked for other client connections once
// the client asks for another origin or closes (also in the same step); a reused connection the origin closed before answering gets a bodiless request
// once more. Driven by a Playbook: exact commands, no sockets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CloseConnection,
  OpenConnection,
  ParkConnection,
  SendData,
} from "../../src/proxy/core/commands.ts";
import { ConnectionClosed, DataReceived, Start } from "../../src/proxy/core/events.ts";
import type { Server } from "../../src/proxy/core/connection.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { any, Playbook, reply } from "./playbook.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const REQ = "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n";
const SENT = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
const RES = "HTTP/1.1 204 No Content\r\n\r\n";

describe("HttpLayer with the shared origin pool", () => {
  test("a keep-alive client keeps its origin connection while it asks for the same origin", () => {
    const ctx = context({ sharedOriginPool: true });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(REQ)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b(SENT)))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(RES)))
      .expect(new SendData(ctx.client, b(RES)))
      .send(new DataReceived(ctx.client, b(REQ)))
      .expect(new SendData(server, b(SENT)))
      .check();
    assert.equal(pb.commands.filter((c) => c instanceof OpenConnection).length, 1);
    assert.equal(pb.commands.filter((c) => c instanceof ParkConnection).length, 0);
    assert.equal(layer.pool.size, 1);
  });

  test("a request for another origin parks the idle connection for other clients", () => {
    const ctx = context({ sharedOriginPool: true });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const other = any<Server>("other");
    const req2 = "GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n";
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(REQ)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b(SENT)))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(RES)))
      .expect(new SendData(ctx.client, b(RES)))
      .send(new DataReceived(ctx.client, b(req2)))
      .expect(new OpenConnection(other), new ParkConnection(server))
      .check();
    assert.equal(layer.pool.size, 0, "parked connections leave the client's pool");
  });

  test("Connection: close from the client: the origin connection is parked, not closed", () => {
    const ctx = context({ sharedOriginPool: true });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const req =
      "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(req)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b(SENT)))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(RES)))
      .expect(
        new SendData(ctx.client, b("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")),
        new ParkConnection(server),
        new CloseConnection(ctx.client),
      )
      .check();
    const closes = pb.commands.filter((c) => c instanceof CloseConnection);
    assert.equal(closes.length, 1, "only the client's connection closes");
  });

  test("an origin that answers Connection: close is not parked", () => {
    const ctx = context({ sharedOriginPool: true });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(REQ)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b(SENT)))
      .send((p) =>
        new DataReceived(
          p.last(OpenConnection).conn,
          b("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"),
        )
      )
      .expect(new CloseConnection(server), new SendData(ctx.client, b(RES)))
      .check();
    assert.equal(pb.commands.filter((c) => c instanceof ParkConnection).length, 0);
  });

  test("a reused connection closed before the response: the bodiless request goes again", () => {
    const ctx = context({ sharedOriginPool: true });
    const layer = new HttpLayer(ctx, REGULAR);
    const stale = any<Server>("stale");
    const fresh = any<Server>("fresh");
    new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(REQ)))
      .expect(new OpenConnection(stale))
      // The driver found an idle connection in the shared pool.
      .send((p) => {
        p.last(OpenConnection).conn.reused = true;
        return reply()(p);
      })
      .expect(new SendData(stale, b(SENT)))
      .send((p) => new ConnectionClosed(p.last(OpenConnection).conn))
      .expect(new CloseConnection(stale), new OpenConnection(fresh))
      .send(reply())
      .expect(new SendData(fresh, b(SENT)))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(RES)))
      .expect(new SendData(ctx.client, b(RES)))
      .check();
  });

  const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  test("pipelined requests without the shared pool use one connection too", () => {
    const ctx = context({ sharedOriginPool: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const server = any<Server>("server");
    const pb = new Playbook(layer, { hooks: false })
      .send(new Start())
      .send(new DataReceived(ctx.client, b(REQ + REQ)))
      .expect(new OpenConnection(server))
      .send(reply())
      .expect(new SendData(server, b(SENT)))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(OK)))
      .expect(new SendData(ctx.client, b(OK)), new SendData(server, b(SENT)))
      .send((p) => new DataReceived(p.last(OpenConnection).conn, b(OK)))
      .expect(new SendData(ctx.client, b(OK)))
      .check();
    assert.equal(pb.commands.filter((c) => c instanceof OpenConnection).length, 1);
  });
});
