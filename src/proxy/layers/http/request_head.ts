/**
 * Small rules about a request head the HTTP stream applies: where the request goes, its Host
 * header, and whether it announces a body.
 */
import type { Flow } from "../../../flow/flow.ts";
import type { HeaderList } from "../../../http/headers.ts";

/** Where a flow's request goes, to notice an addon changing it. */
export function destinationOf(flow: Flow): string {
  return `${flow.request.scheme}://${flow.request.authority}`;
}

/**
 * Host names `authority`: added first when missing (where clients put it), replaced when it names
 * something else, and kept as sent when it only differs in case (host names are case-insensitive).
 */
export function hostFor(headers: HeaderList, authority: string): void {
  const host = headers.get("host");
  if (host === undefined) headers.raw.splice(0, 0, "Host", authority);
  else if (host.toLowerCase() !== authority.toLowerCase()) headers.set("Host", authority);
}

/** A request head that announces no body (no Transfer-Encoding, no Content-Length above 0). */
export function bodiless(headers: HeaderList): boolean {
  if (headers.has("transfer-encoding")) return false;
  const length = headers.get("content-length");
  return length === undefined || /^0+$/.test(length.trim());
}
