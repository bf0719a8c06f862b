/**
 * The one error the codec throws. `status` is what a proxy should answer with: 400/431/505 for a
 * bad request from a client, 502 for a bad response from an origin. `message` is one line meant
 * for people ("chunk size is not hexadecimal").
 */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

/** A received value quoted for an error message: JSON-escaped and cut to keep the line short. */
export function quoted(value: string, max = 40): string {
  const cut = value.length > max ? value.slice(0, max) + "..." : value;
  return JSON.stringify(cut);
}
