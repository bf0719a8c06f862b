/** POSIX shell quoting for the shell snippets (curl, HTTPie). */

/** One word in single quotes: everything is literal there except `'`, written as '\''. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/:.,=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A POSIX `printf` command that writes exactly `bytes` (no trailing newline): printable ASCII
 * stays as it is, `%` is doubled, and every other byte is a three-digit octal escape, which
 * POSIX printf understands in its format (unlike \x, which dash's printf does not).
 */
export function printfBytes(bytes: Uint8Array): string {
  let format = "";
  for (const b of bytes) {
    if (b === 0x25) format += "%%";
    else if (b === 0x5c) format += "\\\\";
    else if (b >= 0x20 && b < 0x7f && b !== 0x27) format += String.fromCharCode(b);
    else format += "\\" + b.toString(8).padStart(3, "0");
  }
  return `printf '${format}'`;
}

/** Joins the words of one command over several lines (backslash-newline continues a line). */
export function commandLines(first: string[], rest: string[][]): string {
  return [first.join(" "), ...rest.map((words) => "  " + words.join(" "))].join(" \\\n");
}
