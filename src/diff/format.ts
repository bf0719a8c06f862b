/** `mitm diff` output: lines a person reads, or JSON for a program. */
import type { Change, FlowDiff } from "./flow_diff.ts";

/** Longest value shown in full; longer ones are cut with "...". */
const SHOWN = 120;

/**
 * One line per added (+) or removed (-) flow, a line per changed (~) flow with its changes
 * indented below, and a summary line.
 */
export function formatDiff(diff: FlowDiff, names: { a: string; b: string }): string {
  const lines: string[] = [];
  for (const f of diff.removed) lines.push(`- ${f.method} ${f.url}  (only in ${names.a})`);
  for (const f of diff.added) lines.push(`+ ${f.method} ${f.url}  (only in ${names.b})`);
  for (const f of diff.changed) {
    lines.push(`~ ${f.method} ${f.url}`);
    for (const c of f.changes) lines.push(...describe(c).map((l) => `    ${l}`));
  }
  lines.push(
    `${diff.same} same, ${diff.changed.length} changed, ${diff.added.length} added, ` +
      `${diff.removed.length} removed`,
  );
  return lines.join("\n") + "\n";
}

/** The diff as one JSON document (the FlowDiff structure; see README). */
export function diffJson(diff: FlowDiff): string {
  return JSON.stringify(diff, null, 2) + "\n";
}

function describe(c: Change): string[] {
  switch (c.what) {
    case "status":
      return [`status: ${c.before ?? "no response"} -> ${c.after ?? "no response"}`];
    case "header":
      return [`header ${c.name}: ${values(c.before)} -> ${values(c.after)}`];
    case "body":
      if (c.kind === "json") {
        return c.changes.map((j) =>
          j.kind === "added"
            ? `body ${j.path}: added ${show(j.after)}`
            : j.kind === "removed"
            ? `body ${j.path}: removed (was ${show(j.before)})`
            : `body ${j.path}: ${show(j.before)} -> ${show(j.after)}`
        );
      }
      if (c.kind === "text") {
        return [
          `body, line ${c.line}:`,
          `  - ${cut(c.before)}`,
          `  + ${cut(c.after)}`,
        ];
      }
      return [
        `body: ${c.before.size} bytes${hash(c.before.sha256)} -> ` +
        `${c.after.size} bytes${hash(c.after.sha256)}`,
      ];
  }
}

function values(v: readonly string[]): string {
  return v.length === 0 ? "(absent)" : v.map((s) => JSON.stringify(cut(s))).join(", ");
}

function show(v: unknown): string {
  return cut(JSON.stringify(v) ?? "undefined");
}

function hash(sha: string | null): string {
  return sha === null ? " (not kept)" : ` (sha256 ${sha.slice(0, 12)})`;
}

function cut(s: string): string {
  return s.length > SHOWN ? s.slice(0, SHOWN) + "..." : s;
}
