/**
 * Pretty JSON that never changes a value: the text is re-indented token by token, so numbers keep
 * their exact spelling (`12345678901234567890` and `1.10` stay as written; JSON.parse would turn
 * them into `12345678901234567000` and `1.1`). Returns null when the text is not one JSON value.
 */
export function prettyJson(text: string, indent = "  "): string | null {
  const out: string[] = [];
  let depth = 0;
  let i = 0;
  let expectValue = true;
  const stack: string[] = [];
  const newline = () => out.push("\n" + indent.repeat(depth));
  const n = text.length;
  let values = 0;
  while (i < n) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (stack.length === 0 && values > 0) return null; // a second top-level value
    if (c === "{" || c === "[") {
      if (!expectValue) return null;
      stack.push(c === "{" ? "}" : "]");
      out.push(c);
      i++;
      // An empty container stays on one line.
      let j = i;
      while (j < n && " \t\r\n".includes(text[j])) j++;
      if (text[j] === stack[stack.length - 1]) {
        out.push(stack.pop()!);
        i = j + 1;
        expectValue = false;
        if (stack.length === 0) values++;
        continue;
      }
      depth++;
      newline();
      expectValue = true;
      continue;
    }
    if (c === "}" || c === "]") {
      if (stack.pop() !== c || expectValue) return null;
      depth--;
      newline();
      out.push(c);
      i++;
      expectValue = false;
      if (stack.length === 0) values++;
      continue;
    }
    if (c === ",") {
      if (expectValue || stack.length === 0) return null;
      out.push(",");
      newline();
      i++;
      expectValue = true;
      continue;
    }
    if (c === ":") {
      if (expectValue || stack[stack.length - 1] !== "}") return null;
      out.push(": ");
      i++;
      expectValue = true;
      continue;
    }
    if (!expectValue) return null;
    const end = c === '"' ? stringEnd(text, i) : literalEnd(text, i);
    if (end < 0) return null;
    out.push(text.slice(i, end));
    i = end;
    expectValue = false;
    if (stack.length === 0) values++;
  }
  if (stack.length !== 0 || values !== 1) return null;
  return out.join("");
}

/** The index after the closing quote of the string starting at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++; // backslash: skip the escaped character
    else if (c === 0x22) return i + 1;
    else if (c < 0x20) return -1;
  }
  return -1;
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/;

/** The index after a number, true, false or null starting at `start`, or -1. */
function literalEnd(text: string, start: number): number {
  for (const word of ["true", "false", "null"]) {
    if (text.startsWith(word, start)) return start + word.length;
  }
  const m = NUMBER.exec(text.slice(start, start + 400));
  return m ? start + m[0].length : -1;
}

/** The index just past the JSON value starting at `i` (after whitespace), or -1. */
function skipValue(text: string, i: number): number {
  while (" \t\r\n".includes(text[i] ?? "x")) i++;
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c !== "{" && c !== "[") return literalEnd(text, i);
  let depth = 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      i = stringEnd(text, i) - 1;
      if (i < 0) return -1;
    } else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * The raw text of each top-level member of a JSON object (`{"a": 1.10}` gives a -> "1.10"), or of
 * each element of an array (keys "0", "1"...), so that a view can show a part without re-encoding
 * its values. Null when the text is not an object or array.
 */
export function rawMembers(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = text.search(/\S/);
  const open = text[i];
  if (open !== "{" && open !== "[") return null;
  i++;
  for (let n = 0;; n++) {
    while (" \t\r\n,".includes(text[i] ?? "x")) i++;
    if (text[i] === (open === "{" ? "}" : "]")) return out;
    let key = String(n);
    if (open === "{") {
      const end = stringEnd(text, i);
      if (text[i] !== '"' || end < 0) return null;
      key = JSON.parse(text.slice(i, end));
      i = end;
      while (" \t\r\n".includes(text[i] ?? "x")) i++;
      if (text[i] !== ":") return null;
      i++;
    }
    const start = i;
    const end = skipValue(text, i);
    if (end < 0) return null;
    out.set(key, text.slice(start, end).trim());
    i = end;
  }
}
