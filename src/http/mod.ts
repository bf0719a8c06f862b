/** The version-neutral HTTP model: headers and request/response heads. */
export * from "./headers.ts";
export * from "./message.ts";
