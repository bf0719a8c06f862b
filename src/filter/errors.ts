/**
 * The one error type of the filter language: a malformed expression, with the position of the
 * problem so that a UI or the CLI can point at it.
 */

/**
 * A filter expression that does not parse.
 *
 * `message` is one line: `filter error at position 7: expected an argument after ~d`.
 * `caret` is two lines, the expression and a `^` under the position, for printing:
 *
 * ```text
 * ~m GET ~d
 *          ^
 * ```
 */
export class FilterError extends Error {
  override name = "FilterError";
  /** 0-based index (UTF-16 code units) into `source` where the problem is; `source.length` at the end. */
  readonly position: number;
  /** What is wrong, without the "filter error at position N: " prefix. */
  readonly detail: string;
  /** The whole expression that failed to parse. */
  readonly source: string;
  /**
   * The expression on one line (line breaks shown as spaces) and a `^` under `position` on the next.
   * Tabs before the position are repeated in the second line so that the caret lines up.
   */
  readonly caret: string;

  constructor(source: string, position: number, detail: string) {
    super(`filter error at position ${position}: ${detail}`);
    this.source = source;
    this.position = position;
    this.detail = detail;
    const line = source.replace(/[\r\n]/g, " ");
    this.caret = `${line}\n${line.slice(0, position).replace(/[^\t]/g, " ")}^`;
  }
}
