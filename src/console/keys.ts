/**
 * Terminal input as keys: printable characters, control keys, the escape sequences of arrows,
 * paging and Home/End, and SGR mouse reports (wheel up/down, click). A lone ESC is a key of its
 * own; one chunk of input may hold several keys.
 */
export type Key =
  | { kind: "char"; char: string }
  | {
    kind:
      | "up"
      | "down"
      | "left"
      | "right"
      | "pageup"
      | "pagedown"
      | "home"
      | "end"
      | "enter"
      | "escape"
      | "tab"
      | "backspace"
      | "ctrl-c"
      | "wheelup"
      | "wheeldown";
  }
  | { kind: "click"; row: number; col: number };

const CSI_KEYS: Record<string, Key["kind"]> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  "5~": "pageup",
  "6~": "pagedown",
  "1~": "home",
  "4~": "end",
  "7~": "home",
  "8~": "end",
};

/** Decodes one chunk of terminal input (UTF-8) into keys; unknown sequences are dropped. */
export function decodeKeys(input: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === "\x1b") {
      const rest = input.slice(i + 1);
      const mouse = /^\[<(\d+);(\d+);(\d+)([Mm])/.exec(rest);
      if (mouse) {
        const button = Number(mouse[1]);
        if (mouse[4] === "M") {
          if (button === 64) keys.push({ kind: "wheelup" });
          else if (button === 65) keys.push({ kind: "wheeldown" });
          else if (button === 0) {
            keys.push({ kind: "click", col: Number(mouse[2]) - 1, row: Number(mouse[3]) - 1 });
          }
        }
        i += 1 + mouse[0].length;
        continue;
      }
      const csi = /^[[O]([0-9;]*)([A-Za-z~])/.exec(rest);
      if (csi) {
        const params = csi[1].split(";")[0];
        const kind = CSI_KEYS[csi[2] === "~" ? `${params}~` : csi[2]];
        if (kind) keys.push({ kind } as Key);
        i += 1 + csi[0].length;
        continue;
      }
      keys.push({ kind: "escape" });
      i++;
      continue;
    }
    i++;
    if (c === "\r" || c === "\n") keys.push({ kind: "enter" });
    else if (c === "\t") keys.push({ kind: "tab" });
    else if (c === "\x7f" || c === "\b") keys.push({ kind: "backspace" });
    else if (c === "\x03") keys.push({ kind: "ctrl-c" });
    else if (c >= " ") {
      // A character outside the BMP is two UTF-16 units.
      const code = c.charCodeAt(0);
      if (code >= 0xd800 && code < 0xdc00 && i < input.length) {
        keys.push({ kind: "char", char: c + input[i] });
        i++;
      } else keys.push({ kind: "char", char: c });
    }
  }
  return keys;
}
