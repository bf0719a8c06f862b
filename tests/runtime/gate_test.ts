/** Gate (src/runtime/conn_parts.ts), the drain and flush waits of every Conn: no sockets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Gate } from "../../src/runtime/shared/conn_parts.ts";

test("Gate.failWaiting makes its error only when someone waits, and fails only that wait", async () => {
  const gate = new Gate();
  let made = 0;
  const makeError = () => {
    made++;
    return new Error("closed while sending");
  };
  gate.failWaiting(makeError);
  assert.equal(made, 0, "nobody waited: no error made");

  const waiting = gate.wait();
  gate.failWaiting(makeError);
  await assert.rejects(waiting, /closed while sending/);
  assert.equal(made, 1);

  // The gate is reset: a later wait is a new one, opened normally.
  const next = gate.wait();
  gate.open();
  await next;
  gate.failWaiting(makeError);
  assert.equal(made, 1);
});
