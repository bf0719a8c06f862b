/**
 * A line diff of two texts for a person to read: the changed lines with the line numbers of the
 * first text, bounded so that a large change stays readable and cheap.
 */

/** Changed lines shown; more are counted. */
const MAX_DIFF_LINES = 200;
/** Lines per side beyond which the line-by-line comparison is not attempted. */
const MAX_LCS_LINES = 2000;

/** Changed lines, `-`/`+` with 1-based line numbers of a, after trimming the common ends. */
export function lineDiff(a: string[], b: string[]): string[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length > MAX_LCS_LINES || midB.length > MAX_LCS_LINES) {
    return [
      `  first difference at line ${start + 1}; ${midA.length} vs ${midB.length} lines differ ` +
      `(too many to compare line by line)`,
    ];
  }
  const ops = editScript(midA, midB);
  const lines: string[] = [];
  let lineA = start;
  let hidden = 0;
  let lastShownA = -2;
  for (const op of ops) {
    if (op.kind === "same") {
      lineA++;
      continue;
    }
    if (lines.length >= MAX_DIFF_LINES) {
      hidden++;
      if (op.kind === "del") lineA++;
      continue;
    }
    if (lineA !== lastShownA) lines.push(`  @@ line ${lineA + 1} of a`);
    if (op.kind === "del") {
      lines.push(`  - ${op.text}`);
      lineA++;
    } else lines.push(`  + ${op.text}`);
    lastShownA = lineA;
  }
  if (hidden > 0) lines.push(`  ... ${hidden} more changed lines`);
  return lines;
}

type Op = { kind: "same" | "del" | "add"; text: string };

/** A shortest edit script from the longest common subsequence (small inputs only). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i * (m + 1) + j]: LCS length of a[i..] and b[j..].
  const lcs = new Uint16Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j]
        ? lcs[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: "same", text: a[i] });
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
      ops.push({ kind: "del", text: a[i++] });
    } else ops.push({ kind: "add", text: b[j++] });
  }
  while (i < n) ops.push({ kind: "del", text: a[i++] });
  while (j < m) ops.push({ kind: "add", text: b[j++] });
  return ops;
}
