// An HTTP/2 client (prior knowledge) through the HttpLayer to HTTP/1.1 origins, in generated
// exchanges: several streams at once, any method, a body or none, and origins that answer with
// any status and framing, close early or send garbage (fast-check). The layers must throw nothing,
// every stream must end for the client (a response that ends, or a reset), and the HTTP stream's
// direct path must yield what its generators yield, and leave the same flows.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CallHook } from "../../src/proxy/core/commands.ts";
import type { Server } from "../../src/proxy/core/connection.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import { ConnectionClosed, DataReceived, Start } from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { Drive, H2Peer } from "./h2_harness.ts";
import { b, context, withStreamPath } from "./layer_helpers.ts";

/** What one origin connection does with the request it gets. */
const originAnswer = fc.oneof(
  fc.record({
    status: fc.constantFrom(200, 204, 304, 404, 502),
    framing: fc.constantFrom("length", "chunked", "close"),
    body: fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
  }).map(({ status, framing, body }) => {
    let text = `HTTP/1.1 ${status} X\r\n`;
    if (framing === "length") text += `Content-Length: ${body.length}\r\n\r\n${body}`;
    else if (framing === "chunked") {
      const chunk = body.length > 0 ? `${body.length.toString(16)}\r\n${body}\r\n` : "";
      text += `Transfer-Encoding: chunked\r\n\r\n${chunk}0\r\n\r\n`;
    } else text += `Connection: close\r\n\r\n${body}`;
    return { text, close: framing === "close" };
  }),
  fc.constant({ text: "", close: true }),
  fc.constant({ text: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", close: true }),
  fc.constant({ text: "SPDY/9 nonsense\r\n\r\n", close: false }),
);

const request = fc.record({
  method: fc.constantFrom("GET", "HEAD", "POST", "DELETE"),
  body: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: null }),
});

const HEARINGS = [
  {},
  { hookListened: () => false },
  { hookListened: () => true, hookObserved: () => true },
  // Only observers, so nothing holds a body: it streams.
  {
    hookListened: () => true,
    hookObserved: () => true,
    holdRequestBodies: false,
    holdResponseBodies: false,
  },
];

/** Runs the exchanges; the client's events per stream and every command, described. */
function exchange(
  hearing: number,
  requests: { method: string; body: string | null }[],
  answers: { text: string; close: boolean }[],
  direct: boolean,
): string[] {
  return withStreamPath(direct, () => {
    const ctx = context(HEARINGS[hearing]);
    const layer = new HttpLayer(ctx, { kind: "regular" }, "http", null, true);
    const drive = new Drive(layer, () => "http/1.1");
    const client = new H2Peer(drive, ctx.client, "client");
    drive.send(new Start());
    client.flush();
    client.read();
    client.flush();
    const ids = requests.map(({ method, body }) =>
      client.h2.request(
        [
          [":method", method],
          [":scheme", "http"],
          [":authority", "origin.test"],
          [":path", "/"],
        ],
        body === null,
      )
    );
    requests.forEach(({ body }, i) => {
      if (body !== null) client.h2.sendData(ids[i], b(body), true);
    });
    client.flush();
    // Each origin connection (one per stream: HTTP/1.1) answers in the order it was dialled.
    const answered = new Set<Server>();
    for (let round = 0; round < 3; round++) {
      for (const [i, server] of drive.servers.entries()) {
        if (answered.has(server) || !server.open) continue;
        answered.add(server);
        const answer = answers[i % answers.length];
        if (answer.text.length > 0) drive.send(new DataReceived(server, b(answer.text)));
        if (answer.close && server.open) drive.send(new ConnectionClosed(server));
        client.read();
        client.flush();
      }
    }
    client.read();
    for (const id of ids) {
      const kinds = client.kinds(id);
      const ended = client.events.some((e) =>
        // A GOAWAY ends the streams it did not take.
        (e.type === "goaway" && e.lastStreamId < id) ||
        ("streamId" in e && e.streamId === id &&
          (e.type === "reset" || e.type === "trailers" ||
            ((e.type === "data" || e.type === "response") && e.endStream)))
      );
      assert.ok(ended, `stream ${id} did not end for the client: ${kinds.join(", ")}`);
    }
    // Connection ids count up across runs: named by their order of appearance instead.
    const names = new Map<string, string>();
    const named = (line: string) =>
      line.replace(/\b[cs]\d+\b/g, (id) => {
        if (!names.has(id)) names.set(id, `${id[0]}#${names.size}`);
        return names.get(id)!;
      });
    // And what the flows say at the end (ids and times aside).
    const flows = new Set(drive.all(CallHook).map((c) => c.data as Flow));
    const json = [...flows].map((f) =>
      JSON.stringify(
        flowToJson(f),
        (k, v) => k === "id" || k.startsWith("timestamp") ? undefined : v,
      )
    );
    return [
      ...drive.commands.map((c) => named(String(c))),
      ...json,
      ...ids.map((id) => `${id}: ${client.kinds(id).join(" ")} ${client.body(id)}`),
    ];
  });
}

describe("an HTTP/2 client through the HttpLayer, any exchange", () => {
  test("throws nothing, ends every stream, and both paths of the stream agree", () => {
    fc.assert(
      fc.property(
        fc.nat(HEARINGS.length - 1),
        fc.array(request, { minLength: 1, maxLength: 4 }),
        fc.array(originAnswer, { minLength: 1, maxLength: 4 }),
        (hearing, requests, answers) => {
          const generators = exchange(hearing, requests, answers, false);
          const direct = exchange(hearing, requests, answers, true);
          assert.deepEqual(direct, generators);
        },
      ),
      { numRuns: 300 },
    );
  });
});
