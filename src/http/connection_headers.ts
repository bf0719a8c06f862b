/**
 * Header fields that belong to one connection or to the message's framing, not to the request
 * itself (RFC 9110 section 7.6.1): a request sent again on a new connection, or pasted into
 * another client, gets its own.
 */

/** Hop-by-hop whether or not a Connection field lists them. */
export const HOP_BY_HOP_FIELDS: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
];

/**
 * What a request repeated elsewhere must not copy: the hop-by-hop fields, the framing
 * (Transfer-Encoding, Content-Length follow the body as it is sent again) and Upgrade.
 */
export const CONNECTION_FIELDS: readonly string[] = [
  ...HOP_BY_HOP_FIELDS,
  "transfer-encoding",
  "upgrade",
  "content-length",
];
