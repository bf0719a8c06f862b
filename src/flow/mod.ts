/** Flows: the model of an exchange, ids, content encodings. */
export * from "./encoding.ts";
export * from "./flow.ts";
export { newFlowId } from "./id.ts";
export * from "./serialize.ts";
export * from "./record_file.ts";
export * from "./har.ts";
export * from "./websocket.ts";
