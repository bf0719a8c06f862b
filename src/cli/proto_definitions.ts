/** Loading `protobuf_definitions` for a command, with its warnings where that command shows them. */
import type { Options } from "../options.ts";
import { useProtoDefinitions } from "../protobuf/definitions.ts";

/** Loads the definitions if the option is set; `warn` gets each failed load as one line. */
export function loadProtobufDefinitions(
  options: Options,
  warn: (line: string) => void = (line) => console.error(`mitm: ${line}`),
): void {
  if (options.protobuf_definitions) useProtoDefinitions(options.protobuf_definitions, warn);
}
