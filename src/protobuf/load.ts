/**
 * Loads `protobuf_definitions`: one .proto file, or every .proto file under a directory, with the
 * files they import (looked up under that directory, or the file's own directory, then beside the
 * importing file, then among the well-known types). Any mistake is one ProtoLoadError worded
 * "file:line: what is wrong".
 */
import fs from "node:fs";
import path from "node:path";
import { linkProtoFiles, type ParsedFile, ProtoLinkError } from "./link.ts";
import { ProtoSyntaxError } from "./lexer.ts";
import { parseProto } from "./parser.ts";
import { WELL_KNOWN_PROTOS } from "./well_known.ts";
import type { ProtoSchema } from "../contentviews/proto_schema.ts";

export class ProtoLoadError extends Error {}

export interface LoadedProtos {
  schema: ProtoSchema;
  /** The files read from disk (not the built-in well-known types), for noticing changes. */
  files: string[];
}

/** Every .proto file under `dir`, sorted, skipping hidden directories and node_modules. */
export function protoFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (
      const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".proto")) out.push(full);
    }
  };
  walk(dir);
  return out;
}

export function loadProtoDefinitions(given: string): LoadedProtos {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(given);
  } catch (e) {
    throw new ProtoLoadError(`${given}: ${reason(e)}`);
  }
  const root = stat.isDirectory() ? given : path.dirname(given);
  const start = stat.isDirectory() ? protoFilesUnder(given) : [given];
  if (start.length === 0) throw new ProtoLoadError(`${given}: no .proto files in this directory`);

  const parsed: ParsedFile[] = [];
  const seen = new Set<string>();
  const read: string[] = [];
  const queue: { file: string; text: string | null }[] = start.map((file) => ({
    file,
    text: null,
  }));
  while (queue.length > 0) {
    const { file, text: builtIn } = queue.shift()!;
    const key = builtIn === null ? path.resolve(file) : `builtin:${file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let text = builtIn;
    if (text === null) {
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (e) {
        throw new ProtoLoadError(`${file}: ${reason(e)}`);
      }
      read.push(file);
    }
    let decl;
    try {
      decl = parseProto(text);
    } catch (e) {
      if (!(e instanceof ProtoSyntaxError)) throw e;
      throw new ProtoLoadError(`${file}:${e.line}: ${e.message}`);
    }
    parsed.push({ file, decl });
    for (const imp of decl.imports) {
      const candidates = [path.join(root, imp.path), path.join(path.dirname(file), imp.path)];
      const found = builtIn === null ? candidates.find((c) => isFile(c)) : undefined;
      if (found !== undefined) queue.push({ file: found, text: null });
      else if (imp.path in WELL_KNOWN_PROTOS) {
        queue.push({ file: imp.path, text: WELL_KNOWN_PROTOS[imp.path] });
      } else {
        throw new ProtoLoadError(
          `${file}:${imp.line}: imported file "${imp.path}" not found (looked in ${root})`,
        );
      }
    }
  }
  try {
    return { schema: linkProtoFiles(parsed), files: read };
  } catch (e) {
    if (e instanceof ProtoLinkError) throw new ProtoLoadError(e.message);
    throw e;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return (e as Error).message ?? String(e);
}
