/** What a contentview produces: lines of spans, each span with an optional kind for colouring. */
export type SpanKind =
  | "key"
  | "string"
  | "number"
  | "literal"
  | "tag"
  | "attr"
  | "comment"
  | "punct"
  | "keyword"
  | "meta"
  | "error";

export interface Span {
  text: string;
  kind?: SpanKind;
}

export type ViewLine = Span[];

export const VIEW_NAMES = [
  "auto",
  "raw",
  "json",
  "xml",
  "html",
  "javascript",
  "css",
  "urlencoded",
  "multipart",
  "image",
  "protobuf",
  "grpc",
  "msgpack",
  "graphql",
  "sse",
  "hex",
] as const;
export type ViewName = (typeof VIEW_NAMES)[number];
export type ConcreteView = Exclude<ViewName, "auto">;

export interface Rendered {
  /** The view that was used ("auto" resolves to one of the others). */
  view: ConcreteView;
  lines: ViewLine[];
  /** Why the view differs from the one asked for, e.g. "not valid JSON: shown raw". */
  note: string | null;
}

/** Thrown by a view whose format the bytes are not in; renderBody falls back and says why. */
export class NotThisFormat extends Error {}

/** Plain lines as spans without a kind. */
export function plainLines(texts: string[]): ViewLine[] {
  return texts.map((text) => [{ text }]);
}
