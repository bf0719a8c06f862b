/**
 * kill -9 in the middle of a load: a real proxy process saving a session is killed while clients
 * keep sending, then the file is opened. It must be a valid database (integrity_check), every flow
 * in it must read back, and the flows lost can only be the newest: every request answered well
 * before the kill (more than the flush interval and then some, see GRACE_MS) is there. The same
 * for the default temporary store, which is written without fsync (synchronous=OFF): a killed
 * process leaves it as valid as a saved session.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { FlowDb } from "../../src/store/flow_db.ts";
import { withOrigin } from "../api/helpers.ts";
import { cliArgv, run, startProxyProcess } from "../e2e/helpers.ts";
import { withTempDir } from "./helpers.ts";

/**
 * Answers older than this at the kill must be stored. The store writes every 100 ms; the rest is
 * room for a loaded machine (this is not a timing assertion on the store, only an upper bound).
 */
const GRACE_MS = 3_000;

/** The temporary store a proxy started with TMPDIR=dir made there. */
function temporaryStoreIn(dir: string): string {
  const made = fs.readdirSync(dir).filter((name) => name.startsWith("mitm-flows-"));
  assert.equal(made.length, 1, `one temporary store in ${dir}: ${made}`);
  return path.join(dir, made[0], "flows.db");
}

test("kill -9 under load leaves a valid session missing at most the newest flows", {
  timeout: 180_000,
}, () => killUnderLoad("session"));

test("kill -9 under load leaves the temporary store (no fsync) as valid", {
  timeout: 180_000,
}, () => killUnderLoad("temporary"));

async function killUnderLoad(store: "session" | "temporary"): Promise<void> {
  await withTempDir(async (dir) => {
    await withOrigin(async (origin) => {
      const saved = store === "session" ? ["--save-session", path.join(dir, "crash.db")] : [];
      const proc = await startProxyProcess(
        [...saved, "--web-port", "0", "--set", "flow_detail=0"],
        // The temporary store goes in the test's directory, where it can be found after the kill.
        store === "temporary" ? { env: { TMPDIR: dir } } : {},
      );
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      /** When each answered request (by path) got its answer. */
      const answered = new Map<string, number>();
      let stop = false;
      let killed = false;
      let n = 0;
      const one = () =>
        new Promise<void>((resolve) => {
          const p = `/crash/${n++}`;
          const req = http.request({
            host: "127.0.0.1",
            port: proc.port,
            path: `http://127.0.0.1:${origin.port}${p}`,
            agent,
          }, (res) => {
            res.resume();
            res.on("end", () => {
              if (res.statusCode === 200) answered.set(p, Date.now());
              resolve();
            });
            res.on("error", () => resolve());
          });
          req.on("error", () => resolve());
          req.end();
        });
      const loops = Array.from({ length: 4 }, async () => {
        while (!stop) await one();
      });
      try {
        const until = Date.now() + 60_000;
        while (answered.size < 400 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, GRACE_MS));
        const killedAt = Date.now();
        await proc.stop("SIGKILL");
        killed = true;
        stop = true;
        await Promise.all(loops);
        agent.destroy();

        const file = store === "session" ? path.join(dir, "crash.db") : temporaryStoreIn(dir);
        const db = new FlowDb(file);
        try {
          assert.equal(db.db.prepare("PRAGMA integrity_check").get()!.integrity_check, "ok");
          const stored = new Set<string>();
          for (const flow of db.flows()) stored.add(flow.request.path);
          assert.ok(stored.size > 0);
          const old = [...answered].filter(([, at]) => at < killedAt - GRACE_MS);
          assert.ok(old.length >= 400, `${old.length} answers before the grace period`);
          const missing = old.filter(([p]) => !stored.has(p)).map(([p]) => p);
          assert.deepEqual(missing, [], "answered long before the kill, so stored");
          console.log(
            `kill -9: ${answered.size} answered, ${stored.size} stored, ` +
              `${answered.size - [...answered.keys()].filter((p) => stored.has(p)).length} ` +
              `answered but not stored (the last batch)`,
          );
        } finally {
          db.close();
        }
        // The command line reads it too.
        const [cmd, args] = cliArgv(["read", file, "-d", "0"]);
        const r = await run(cmd, args);
        assert.equal(r.code, 0, r.stderr);
      } finally {
        stop = true;
        if (!killed) await proc.stop("SIGKILL");
      }
    });
  });
}
