// Names perf samples of JIT-compiled JavaScript from JavaScriptCore's perf dump (jitdump format:
// a header, then records; a JIT_CODE_LOAD record gives a code range and its name, such as
// "JSC-FTL: handleEvent#CtDVsN"). Used by jit_profile.sh:
//
//   node jit_symbols.mjs JIT_DUMP SAMPLES_TXT T0 T1 CONNECTIONS
//
// SAMPLES_TXT is `perf script -F comm,tid,time,ip,sym,dso`; only samples between T0 and T1 (perf's
// monotonic seconds) count. Prints samples per 1,000 connections by thread and code, then the
// main thread's JavaScript by function (the top 40, or TOP in the environment).
import fs from "node:fs";

const [dumpPath, samplesPath, t0Text, t1Text, connections] = process.argv.slice(2);
const t0 = Number(t0Text);
const t1 = Number(t1Text);
const per1000 = 1000 / Number(connections);

/** Code ranges from the dump's JIT_CODE_LOAD records (id 0), sorted by address. */
function codeLoads(path) {
  const buf = fs.readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const loads = [];
  let at = view.getUint32(8, true); // the header's size
  while (at + 16 <= buf.length) {
    const id = view.getUint32(at, true);
    const size = view.getUint32(at + 4, true);
    // A record cut short (the dump was still being written when the process ended): stop.
    if (size === 0 || at + size > buf.length) break;
    if (id === 0) {
      // After the record header (id, size, timestamp): pid, tid, vma, code address, code size,
      // code index, then the name, NUL-terminated.
      const start = Number(view.getBigUint64(at + 32, true));
      const length = Number(view.getBigUint64(at + 40, true));
      let end = at + 56;
      while (end < at + size && buf[end] !== 0) end++;
      loads.push({
        start,
        end: start + length,
        name: buf.toString("utf8", at + 56, end),
        time: Number(view.getBigUint64(at + 8, true)) / 1e9,
      });
    }
    at += size;
  }
  return loads.sort((a, b) => a.start - b.start);
}

/** The code that held `address` at `time`: the latest load of a range containing it. */
function nameAt(loads, address, time) {
  let best = null;
  for (const load of loads) {
    if (load.start > address) break;
    if (address < load.end && load.time <= time && (best === null || load.time > best.time)) {
      best = load;
    }
  }
  return best?.name ?? "(unknown JIT code)";
}

const loads = codeLoads(dumpPath);
const byThreadAndCode = new Map();
const byFunction = new Map();
const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
const LINE = /^\s*(.+?)\s+\d+\s+([\d.]+):\s+([0-9a-f]+)\s+.*\((.*)\)\s*$/;
for (const line of fs.readFileSync(samplesPath, "utf8").split("\n")) {
  const m = LINE.exec(line);
  if (m === null) continue;
  const [, thread, timeText, addressText, dso] = m;
  const time = Number(timeText);
  if (time < t0 || time > t1) continue;
  // JIT code has no file: perf names it after a perf map ("/tmp/perf-PID.map").
  const jit = dso.includes("perf-");
  const code = jit ? "JIT-compiled JavaScript" : dso.split("/").pop();
  count(byThreadAndCode, `${thread} | ${code}`);
  if (jit && thread === "bun") {
    count(byFunction, nameAt(loads, parseInt(addressText, 16), time));
  }
}

const print = (map, top) => {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, n] of rows) console.log(`${(n * per1000).toFixed(1).padStart(8)}  ${key}`);
};
console.log("samples per 1,000 connections, by thread | code:");
print(byThreadAndCode, 12);
console.log("\nthe main thread's JIT-compiled JavaScript, by function:");
print(byFunction, Number(process.env.TOP ?? 40));
