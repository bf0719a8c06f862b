/** Leveled, one-line logging. Output goes through a sink so tests and the API can capture it. */

export type LogLevel = "error" | "warn" | "info" | "debug";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  enabled(level: LogLevel): boolean;
}

export type LogSink = (level: LogLevel, message: string) => void;

export function createLogger(level: LogLevel, sink: LogSink): Logger {
  const max = RANK[level];
  const emit = (l: LogLevel) => (m: string) => {
    if (RANK[l] <= max) sink(l, m);
  };
  return {
    level,
    error: emit("error"),
    warn: emit("warn"),
    info: emit("info"),
    debug: emit("debug"),
    enabled: (l) => RANK[l] <= max,
  };
}

/** Writes info and debug to stdout, warnings and errors to stderr. */
export const consoleSink: LogSink = (level, message) => {
  if (level === "error" || level === "warn") console.error(message);
  else console.log(message);
};

export const silentLogger: Logger = createLogger("error", () => {});
