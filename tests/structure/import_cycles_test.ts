import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importCycles } from "../../scripts/import_cycles.ts";

describe("import cycles", () => {
  test("the checker finds a cycle made of type-only imports and ignores one-way imports", () => {
    const dir = mkdtempSync(join(tmpdir(), "cycles-"));
    try {
      mkdirSync(join(dir, "a"));
      writeFileSync(
        join(dir, "a", "x.ts"),
        'import type { Y } from "../y.ts";\nexport type X = Y;\n',
      );
      writeFileSync(
        join(dir, "y.ts"),
        'import type {\n  X,\n} from "./a/x.ts";\nexport type Y = 1;\n',
      );
      writeFileSync(join(dir, "z.ts"), 'export { type Y } from "./y.ts";\n');
      const cycles = importCycles(dir);
      assert.equal(cycles.length, 1);
      assert.equal(cycles[0].length, 2);
      assert.ok(cycles[0].some((f) => f.endsWith(join("a", "x.ts"))));
      assert.ok(cycles[0].some((f) => f.endsWith("y.ts")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Type-only imports count: every dependency in src/ points one way.
  test("src/ has no import cycles", () => {
    assert.deepEqual(importCycles("src"), []);
  });
});
