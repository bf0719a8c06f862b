/**
 * Child process for the kill -9 test: records flows to the file named in argv[2] in a tight loop,
 * each with metadata.seq counting up from 0 and a body of varying size, and prints "started" once
 * the first flow is written. It runs until killed.
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { FlowRecorder } from "../../src/flow/record_file.ts";
import { simpleFlow } from "./helpers.ts";

const path = process.argv[2];
const recorder = new FlowRecorder(path);
const sizes = [0, 10, 1000, 70_000, 300_000];
const bodies = sizes.map((n) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 0xff; // binary: base64 in the file
  return b;
});
for (let seq = 0;; seq++) {
  const flow = simpleFlow(bodies[seq % bodies.length]);
  flow.metadata = { seq };
  recorder.write(flow);
  // Synchronous: the loop never yields to the event loop, so an async write would never go out.
  if (seq === 0) writeSync(1, "started\n");
}
