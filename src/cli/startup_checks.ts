/**
 * Problems the command line finds before or while starting, said in one line: a --record file
 * that cannot be written, a --confdir that cannot be created. Checked before the proxy listens,
 * so that a mistake is an exit status, not a proxy that runs without doing what was asked.
 */
import fs from "node:fs";
import path from "node:path";

/** A problem the user must fix; main prints `mitm: MESSAGE.` and exits with `exitCode`. */
export class StartupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "StartupError";
    this.exitCode = exitCode;
  }
}

/** What a file-system error code means, in words (Node's error codes, which both runtimes use). */
const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EISDIR: "it is a directory",
  ENOSPC: "no space left on device",
  EEXIST: "it already exists",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
  EIO: "input/output error",
};

interface FsError {
  code: string;
  syscall?: string;
  path?: string;
}

function isFsError(e: unknown): e is FsError {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

/** The reason of a file-system error in words, or null when `e` is not one. */
export function fsReason(e: unknown): string | null {
  if (!isFsError(e)) return null;
  return FS_REASONS[e.code] ?? e.code;
}

/**
 * Checks that flows can be appended to `file` (creating it, as recording would): a missing
 * directory or a read-only place is a usage error (exit 2) naming the path and the reason.
 */
export function checkRecordFile(file: string, usageExit: number): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "a", 0o644);
  } catch (e) {
    const err = e as FsError;
    const dir = path.dirname(path.resolve(file));
    const reason = err.code === "ENOENT" && !fs.existsSync(dir)
      ? `the directory ${dir} does not exist`
      : fsReason(e) ?? String((e as Error)?.message ?? e);
    throw new StartupError(`cannot record to ${file} (-w): ${reason}`, usageExit);
  }
  fs.closeSync(fd);
}

/**
 * A file-system error met while starting (creating the CA in confdir, say) as a StartupError
 * naming the path, or null when `e` is something else.
 */
export function startupFsError(e: unknown, confdir: string): StartupError | null {
  if (!isFsError(e) || typeof e.path !== "string") return null;
  const reason = fsReason(e);
  const inConfdir = e.path === confdir || e.path.startsWith(confdir + path.sep) ||
    confdir.startsWith(e.path + path.sep);
  if (inConfdir) {
    const verb = e.syscall === "mkdir" ? "create" : "use";
    return new StartupError(
      `cannot ${verb} the configuration directory ${confdir}: ${reason}. ` +
        `Choose another with --confdir`,
      1,
    );
  }
  return new StartupError(`cannot ${e.syscall ?? "use"} ${e.path}: ${reason}`, 1);
}
