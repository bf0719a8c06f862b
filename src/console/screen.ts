/**
 * Drawing the terminal: a frame is a list of lines made of styled segments. Only lines that
 * differ from the last frame are written, each with one cursor move, so a busy proxy costs the
 * terminal little and nothing flickers. Styles are dropped with NO_COLOR except reverse video and
 * bold, which carry meaning (the selected row, headings) and are not colours.
 */
export type Style =
  | "bold"
  | "dim"
  | "reverse"
  | "red"
  | "green"
  | "yellow"
  | "blue"
  | "cyan"
  | "magenta";

/** A piece of a line: its text (no control characters) and its styles. */
export type Segment = { text: string; style?: Style[] };
export type Line = Segment[];

const SGR: Record<Style, string> = {
  bold: "1",
  dim: "2",
  reverse: "7",
  red: "31",
  green: "32",
  yellow: "33",
  blue: "34",
  cyan: "36",
  magenta: "35",
};
const NOT_COLOUR = new Set<Style>(["bold", "reverse"]);

/** Replaces control characters, which would move the cursor, with a visible dot. */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, "·");
}

/** The line as terminal output, cut or padded to exactly `width` columns. */
export function renderLine(line: Line, width: number, color: boolean, pad = true): string {
  let out = "";
  let used = 0;
  for (const seg of line) {
    if (used >= width) break;
    let text = printable(seg.text);
    if (used + text.length > width) text = text.slice(0, width - used);
    used += text.length;
    const styles = (seg.style ?? []).filter((s) => color || NOT_COLOUR.has(s));
    out += styles.length ? `\x1b[${styles.map((s) => SGR[s]).join(";")}m${text}\x1b[0m` : text;
  }
  if (pad && used < width) {
    // A reverse-video line (the selected row) is padded in reverse too.
    const last = line[line.length - 1];
    const fill = " ".repeat(width - used);
    out += last?.style?.includes("reverse") ? `\x1b[7m${fill}\x1b[0m` : fill;
  }
  return out;
}

/** Keeps the last frame and writes only what changed. */
export class Screen {
  #last: string[] = [];
  #width = 0;
  #height = 0;
  readonly #write: (text: string) => void;
  readonly #color: boolean;

  constructor(write: (text: string) => void, color: boolean) {
    this.#write = write;
    this.#color = color;
  }

  /** Enters the alternate screen, hides the cursor and asks for mouse reports (SGR). */
  enter(): void {
    this.#write("\x1b[?1049h\x1b[?25l\x1b[?1000h\x1b[?1006h\x1b[2J");
    this.#last = [];
  }

  /** Undoes enter(): the terminal is as the shell left it. */
  leave(): void {
    this.#write("\x1b[?1000l\x1b[?1006l\x1b[0m\x1b[?25h\x1b[?1049l");
    this.#last = [];
  }

  /** Forgets the last frame, so the next draw writes every line (after a resize or an editor). */
  invalidate(): void {
    this.#last = [];
  }

  /** Draws a frame of `height` lines; returns the bytes written (0 when nothing changed). */
  draw(lines: Line[], width: number, height: number): number {
    if (width !== this.#width || height !== this.#height) {
      this.#width = width;
      this.#height = height;
      this.#last = [];
      this.#write("\x1b[2J");
    }
    let out = "";
    for (let row = 0; row < height; row++) {
      const text = renderLine(lines[row] ?? [], width, this.#color);
      if (this.#last[row] === text) continue;
      this.#last[row] = text;
      out += `\x1b[${row + 1};1H${text}`;
    }
    if (out.length > 0) this.#write(out);
    return out.length;
  }
}
