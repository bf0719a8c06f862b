/**
 * Running the command of `mitm run` (or a browser) to completion with the terminal handed over:
 * its status becomes ours, and signals sent to us reach it.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";

/** Thrown when the command cannot be started at all (not found, not executable). */
export class CommandStartError extends Error {
  /** The status a shell would exit with: 127 not found, 126 found but not runnable. */
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = "CommandStartError";
    this.status = status;
  }
}

/** Signals passed on to the command. */
const FORWARDED = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/**
 * Runs `argv` with `env`, sharing our standard streams, and resolves with the status to exit
 * with: the command's, or 128 + the signal number that ended it, as shells report it.
 *
 * Ctrl-C at a terminal signals the whole foreground process group, so the command already gets
 * SIGINT (and SIGQUIT) itself; passing them on too would make it see two. They are passed on only
 * when our standard input is not a terminal (a supervisor signalling our pid alone). We keep
 * running until the command has exited, whatever it does with the signal.
 */
export async function runChild(
  argv: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; stdin?: "inherit" | "ignore" } = {},
): Promise<number> {
  const [command, ...args] = argv;
  let pid: number | undefined;
  let running = false;
  const fromTerminal = Boolean(process.stdin.isTTY);
  const forward = (signal: NodeJS.Signals) => {
    if (fromTerminal && (signal === "SIGINT" || signal === "SIGQUIT")) return;
    try {
      // process.kill rather than child.kill: on Deno child.kill() loses the exit status.
      if (pid !== undefined && running) process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  const listeners = FORWARDED.map((signal) => {
    const listener = () => forward(signal);
    try {
      process.on(signal, listener);
    } catch {
      // a signal this platform or runtime cannot listen for
    }
    return [signal, listener] as const;
  });
  const cleanUp = () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
  // The command starts once the listeners are in place, and a turn of the event loop later: Deno
  // binds them asynchronously, and a SIGINT right after spawning killed us in 5 of 15 tries.
  await new Promise((resolve) => setTimeout(resolve, 0));
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      cwd: options.cwd,
      stdio: [options.stdin ?? "inherit", "inherit", "inherit"],
    });
    pid = child.pid;
    running = true;
    child.once("error", (e: NodeJS.ErrnoException) => {
      running = false;
      cleanUp();
      const status = e.code === "ENOENT" ? 127 : 126;
      const why = e.code === "ENOENT" ? "command not found" : e.message;
      reject(new CommandStartError(`cannot run ${command}: ${why}`, status));
    });
    child.once("exit", (code, signal) => {
      running = false;
      cleanUp();
      if (code !== null) return resolve(code);
      const number = signal ? (constants.signals as Record<string, number>)[signal] : undefined;
      resolve(128 + (number ?? 1));
    });
  });
}
