/**
 * A mistyped subcommand (`mitm raed f.jsonl`, `mitm consle`) would otherwise be taken as a FILTER
 * and start a proxy that shows nothing: a first word within two edits of a command is refused.
 */

/**
 * Subcommands being added in parallel work that are not registered with the parser yet; a typo of
 * one of them is refused too. Drop a name once its command exists (the registered list covers it).
 */
export const PENDING_SUBCOMMANDS: readonly string[] = [
  "run",
  "browser",
  "diff",
  "web",
];

/** How many edits most: a word further from every command is a filter. */
const MAX_EDITS = 2;

/**
 * Optimal string alignment distance (Damerau-Levenshtein where a transposed pair counts as one
 * edit and is not edited again): "raed" is 1 from "read", "consle" 1 from "console".
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1, cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The command `word` was probably meant to be, or null. Only a plain word can be one: anything
 * with filter syntax (`~`, `.`, `/`, quotes...) is a filter. A word must also keep something of
 * the command (fewer edits than its length): else every two-letter word would be a typo of "ca".
 */
export function mistypedCommand(word: string, commands: readonly string[]): string | null {
  if (!/^[a-z][a-z-]*$/i.test(word)) return null;
  const lower = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const command of commands) {
    const d = editDistance(lower, command);
    if (d <= MAX_EDITS && d < command.length && d < bestDistance) {
      best = command;
      bestDistance = d;
    }
  }
  return best;
}
