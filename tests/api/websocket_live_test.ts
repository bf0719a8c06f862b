/** WebSocket flows in the list: message counts in the summary, pushed live as messages pass. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawWsClient, wsOrigin } from "../e2e/websocket_helpers.ts";
import { readEvents, waitFor, withApi } from "./helpers.ts";

type Upsert = { websocket: { messages: number; closed: boolean; closeCode: number | null } | null };

test("each WebSocket message updates the flow on the event stream while the socket is open", async () => {
  const origin = await wsOrigin();
  try {
    await withApi({}, async ({ proxy, req }) => {
      const events = await req("/api/events");
      const client = await RawWsClient.open({
        proxyPort: proxy.address.port,
        originPort: origin.port,
      });
      const upserts = (evs: { event: string; data: unknown }[]) =>
        evs.flatMap((e) => (e.data as { upsert?: Upsert[] }).upsert ?? []).filter((f) =>
          f.websocket !== null
        );
      // Once the opened socket has been reported (and that report is out), messages alone must
      // bring new reports.
      let sent = false;
      const seen = await readEvents(events.body!, (evs) => {
        if (!sent && upserts(evs).length > 0) {
          sent = true;
          setTimeout(() => {
            client.text("one");
            client.text("two");
          }, 500);
        }
        return sent && upserts(evs).some((f) => f.websocket!.messages >= 2);
      }, 10_000);
      assert.ok(
        upserts(seen).some((f) => f.websocket!.messages >= 2 && !f.websocket!.closed),
        "live, before the close",
      );
      await client.next();
      await client.next();
      client.close(1000, "done");
      await client.closed();
      const after = await waitFor("the close in the summary", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows[0].websocket.closed && flows[0];
      });
      assert.equal(after.websocket.closeCode, 1000);
    });
  } finally {
    await origin.close();
  }
});
