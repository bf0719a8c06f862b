import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localFileFor } from "../../src/addons/builtin/map_local_path.ts";
import { guessMimeType } from "../../src/addons/builtin/mime_types.ts";
import { tempDir } from "./helpers.ts";

test("map local: files under the directory, index.html for directories, query ignored", () => {
  const { dir, remove } = tempDir();
  try {
    const root = join(dir, "www");
    mkdirSync(join(root, "sub"), { recursive: true });
    writeFileSync(join(root, "index.html"), "home");
    writeFileSync(join(root, "sub", "a b.css"), "css");
    writeFileSync(join(root, "sub", "index.html"), "sub home");
    assert.deepEqual(localFileFor(root, "/sub/a%20b.css?v=1"), {
      kind: "file",
      file: join(root, "sub", "a b.css"),
    });
    assert.deepEqual(localFileFor(root, ""), { kind: "file", file: join(root, "index.html") });
    assert.deepEqual(localFileFor(root, "/sub/"), {
      kind: "file",
      file: join(root, "sub", "index.html"),
    });
    assert.equal(localFileFor(root, "/nope.js").kind, "missing");
    // A single file answers whatever the rest of the URL is.
    assert.deepEqual(localFileFor(join(root, "index.html"), "/x/y"), {
      kind: "file",
      file: join(root, "index.html"),
    });
  } finally {
    remove();
  }
});

test("map local: .. and symlinks out of the directory are refused", () => {
  const { dir, remove } = tempDir();
  try {
    const root = join(dir, "www");
    mkdirSync(root);
    writeFileSync(join(dir, "secret.txt"), "secret");
    symlinkSync(join(dir, "secret.txt"), join(root, "link.txt"));
    symlinkSync(dir, join(root, "up"));
    for (
      const rest of [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/a/../../secret.txt",
        "..%2fsecret.txt",
      ]
    ) {
      assert.equal(localFileFor(root, rest).kind, "refused", rest);
    }
    assert.equal(localFileFor(root, "/link.txt").kind, "refused");
    assert.equal(localFileFor(root, "/up/secret.txt").kind, "refused");
    assert.equal(localFileFor(root, "/%zz").kind, "refused");
    // .. that stays inside is fine.
    writeFileSync(join(root, "ok.txt"), "ok");
    assert.equal(localFileFor(root, "/x/../ok.txt").kind, "file");
  } finally {
    remove();
  }
});

test("map local: mime types from the extension", () => {
  assert.equal(guessMimeType("/a/b.JSON"), "application/json");
  assert.equal(guessMimeType("/a/b.html"), "text/html; charset=utf-8");
  assert.equal(guessMimeType("/a.d/README"), "application/octet-stream");
  assert.equal(guessMimeType("x.png"), "image/png");
});
