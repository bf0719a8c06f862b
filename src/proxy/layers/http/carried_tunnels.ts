/**
 * The HttpLayer's bookkeeping for tunnels inside HTTP/2 streams (connect_stream.ts): which
 * tunnel stack each connection's events go to (its CarriedClient, its server, those it dials),
 * and per pipe the client's body bytes written into it and not acknowledged yet (the stream's
 * window reopens when the driver says the pipe took them in: WriteDrained).
 */
import type { Connection } from "../../core/connection.ts";
import type { Layer } from "../../core/layer.ts";
import type { TunnelInStream } from "./connect_stream.ts";

export class CarriedTunnels {
  readonly #stackOf = new Map<Connection, Layer>();
  readonly #stacks = new Set<Layer>();
  readonly #owed = new Map<Connection, { streamId: number; bytes: number }>();

  get empty(): boolean {
    return this.#stackOf.size === 0 && this.#owed.size === 0;
  }

  /** A tunnel opened: its stack reads its client and its server. */
  opened(command: TunnelInStream, stack: Layer): void {
    this.#owed.set(command.pipe, { streamId: command.streamId, bytes: 0 });
    this.#stacks.add(stack);
    this.#stackOf.set(command.client, stack);
    this.#stackOf.set(command.server, stack);
  }

  /** The stack whose connection `conn` is. */
  stackOf(conn: Connection): Layer | undefined {
    return this.#stackOf.get(conn);
  }

  /** `layer` dialled `conn`: if it is a tunnel's stack, that connection's events are its. */
  dialled(layer: Layer, conn: Connection): void {
    if (this.#stacks.has(layer)) this.#stackOf.set(conn, layer);
  }

  /** A tunnel's connection closed; a stack left without any is forgotten. */
  closed(conn: Connection): void {
    const stack = this.#stackOf.get(conn);
    if (stack === undefined) return;
    this.#stackOf.delete(conn);
    for (const other of this.#stackOf.values()) if (other === stack) return;
    this.#stacks.delete(stack);
  }

  isPipe(conn: Connection): boolean {
    return this.#owed.has(conn);
  }

  /** Body bytes of the client went into `pipe`. */
  owe(pipe: Connection, bytes: number): void {
    this.#owed.get(pipe)!.bytes += bytes;
  }

  /** What the pipe took in since the last call: the stream and bytes to acknowledge. */
  drained(pipe: Connection): { streamId: number; bytes: number } | null {
    const owed = this.#owed.get(pipe);
    if (owed === undefined || owed.bytes === 0) return null;
    const bytes = owed.bytes;
    owed.bytes = 0;
    return { streamId: owed.streamId, bytes };
  }

  /** The pipe is done with (its stream released it). */
  forgetPipe(pipe: Connection): void {
    this.#owed.delete(pipe);
  }

  /** The client left: nothing to route or acknowledge any more. */
  clear(): void {
    this.#owed.clear();
  }
}
