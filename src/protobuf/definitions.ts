/**
 * `protobuf_definitions` while the program runs: loaded once at start, and again when a file
 * changes (noticed when a body is shown, at most every two seconds, by the files' sizes and
 * modification times, so there is no watcher to keep the process alive). A mistake is one warning
 * line and protobuf bodies are shown without a schema until it is fixed.
 */
import fs from "node:fs";
import { type ProtoSchema, setProtoSchemaProvider } from "../contentviews/proto_schema.ts";
import { loadProtoDefinitions, protoFilesUnder, ProtoLoadError } from "./load.ts";

const CHECK_EVERY_MS = 2000;

export interface ProtoDefinitions {
  /** The schema now, reloaded first if a file changed. */
  current(): ProtoSchema | null;
}

/**
 * Loads `given` and makes it the contentviews' schema; `warn` gets one line per failed load.
 * `checkEveryMs` is how often a change is looked for (tests make it 0).
 */
export function useProtoDefinitions(
  given: string,
  warn: (line: string) => void,
  checkEveryMs = CHECK_EVERY_MS,
): ProtoDefinitions {
  let schema: ProtoSchema | null = null;
  let files: string[] = [];
  let stamp = "";
  let checked = 0;
  const load = () => {
    stamp = fingerprint(given, files);
    try {
      const loaded = loadProtoDefinitions(given);
      schema = loaded.schema;
      files = loaded.files;
      stamp = fingerprint(given, files);
    } catch (e) {
      if (!(e instanceof ProtoLoadError)) throw e;
      schema = null;
      warn(
        `warning: protobuf_definitions: ${e.message}; protobuf bodies are shown without a schema`,
      );
    }
  };
  load();
  const definitions: ProtoDefinitions = {
    current() {
      const now = Date.now();
      if (now - checked >= checkEveryMs) {
        checked = now;
        if (fingerprint(given, files) !== stamp) load();
      }
      return schema;
    },
  };
  setProtoSchemaProvider(() => definitions.current());
  return definitions;
}

/** Sizes and times of the files read, and of any .proto file added under a given directory. */
function fingerprint(given: string, files: string[]): string {
  const all = new Set(files);
  try {
    if (fs.statSync(given).isDirectory()) { for (const f of protoFilesUnder(given)) all.add(f); }
    else all.add(given);
  } catch {
    return "missing";
  }
  return [...all].sort().map((f) => {
    try {
      const s = fs.statSync(f);
      return `${f}:${s.size}:${s.mtimeMs}`;
    } catch {
      return `${f}:gone`;
    }
  }).join("\n");
}
