// Runs the whole test suite under Deno and under Bun and prints one summary line,
// "N passed, M failed", summed over both. Exit status is non-zero if anything failed.
//   node scripts/test.mjs                 every test, both runtimes
//   node scripts/test.mjs tests/http1     only some paths
//   RUNTIMES=deno node scripts/test.mjs   one runtime
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const paths = process.argv.slice(2);
const runtimes = (process.env.RUNTIMES ?? "deno,bun").split(",").filter(Boolean);

// Per-test timeouts are set in the tests that need long ones; this is the fallback.
const runners = {
  deno: {
    cmd: bin("deno"),
    args: ["test", "-A", "--no-check", ...(paths.length ? paths : ["tests/"])],
    // "ok | 12 passed (3 steps) | 0 failed (25ms)" / "FAILED | 1 passed | 2 failed (...)"
    count(out) {
      const line = out.split("\n").reverse().find((l) => / passed.*\| .* failed/.test(l)) ?? "";
      const m = /\|\s*(\d+) passed(?: \(\d+ steps?\))?\s*\|\s*(\d+) failed/.exec(line);
      const ignored = /\|\s*(\d+) ignored/.exec(line);
      return m ? { passed: +m[1], failed: +m[2], skipped: ignored ? +ignored[1] : 0 } : null;
    },
  },
  bun: {
    cmd: bin("bun"),
    args: [
      "test",
      "--timeout",
      "120000",
      ...(paths.length ? paths.map((p) => `./${p}`) : ["./tests/"]),
    ],
    // " 40 pass\n 1 fail"
    count(out) {
      const p = /^\s*(\d+) pass$/m.exec(out);
      const f = /^\s*(\d+) fail$/m.exec(out);
      const s = /^\s*(\d+) skip$/m.exec(out);
      return p ? { passed: +p[1], failed: f ? +f[1] : 0, skipped: s ? +s[1] : 0 } : null;
    },
  },
};

function run(name) {
  const r = runners[name];
  return new Promise((resolve) => {
    console.log(`\n===== ${name}: ${[r.cmd.replace(root + "/", ""), ...r.args].join(" ")}`);
    const child = spawn(r.cmd, r.args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const tee = (stream, sink) =>
      stream.on("data", (d) => {
        out += d;
        sink.write(d);
      });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on("error", (e) => {
      console.log(`${name}: could not start (${e.message}); run \`npm ci\` first`);
      resolve({ passed: 0, failed: 1, skipped: 0 });
    });
    child.on("close", (code) => {
      const counts = r.count(out);
      if (!counts) {
        console.log(`${name}: test runner exited with ${code} and printed no summary`);
        resolve({ passed: 0, failed: 1, skipped: 0 });
      } else {
        // A runner that fails outside any test (e.g. a module that does not load) still fails.
        if (code !== 0 && counts.failed === 0) counts.failed = 1;
        console.log(
          `${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
        );
        resolve(counts);
      }
    });
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of runtimes) {
  const c = await run(name);
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
}
// Skipped tests are neither passed nor failed; say how many, above the summary line.
if (skipped > 0) console.log(`(${skipped} skipped; the runners print why above)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
