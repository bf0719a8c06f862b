/**
 * The console app: the model and the renderer wired to a terminal and a running proxy. It draws at
 * most FRAME_MS apart and only when something changed, reads keys in raw mode, and puts the
 * terminal back as it found it on quit, on a signal and on a crash.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { Control } from "../api/control.ts";
import { RUNTIME_OPTIONS } from "../api/runtime_options.ts";
import { ReplayError } from "../api/replay.ts";
import type { StoreEvent } from "../api/store.ts";
import { type Filter, parseFilter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { FlowRecorder } from "../flow/record_file.ts";
import { OptionError, parseOptionValue } from "../options.ts";
import { applyFile, EditError, partToFile } from "./edit_part.ts";
import { decodeKeys } from "./keys.ts";
import { ConsoleModel, type EditPart, type Effect } from "./model.ts";
import { renderFrame, type RenderSource } from "./render.ts";
import { Screen } from "./screen.ts";

/** At most ~30 frames a second, however busy the proxy is. */
const FRAME_MS = 33;
const MAX_EVENTS = 1000;

/** The terminal the console draws on: process.stdin/stdout, or a stand-in in tests. */
export interface Terminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

export interface ConsoleAppOptions {
  control: Control;
  /** "proxy at http://127.0.0.1:8080" and the like, for the title bar. */
  title: string;
  color: boolean;
  terminal?: Terminal;
  /** Lines logged before the app started (startup lines), for the event log. */
  events?: string[];
}

export class ConsoleApp {
  readonly model: ConsoleModel;
  readonly events: string[];
  readonly #control: Control;
  readonly #title: string;
  readonly #screen: Screen;
  readonly #term: Terminal;
  #filter: Filter | null = null;
  #listed = new Set<string>();
  #drawTimer: ReturnType<typeof setTimeout> | undefined;
  #lastDraw = 0;
  #unsubscribe = () => {};
  #done!: () => void;
  readonly finished: Promise<void>;
  #running = false;

  constructor(options: ConsoleAppOptions) {
    this.#control = options.control;
    this.#title = options.title;
    this.events = options.events ?? [];
    this.#term = options.terminal ?? { input: process.stdin, output: process.stdout };
    this.#screen = new Screen((text) => this.#term.output.write(text), options.color);
    const interceptor = this.#control.interceptor;
    this.model = new ConsoleModel(
      {
        hasResponse: (id) => this.#control.store.get(id)?.response != null,
        pausedAt: (id) => interceptor.phaseOf(id),
      },
      [...RUNTIME_OPTIONS],
    );
    this.model.interceptText = interceptor.filter;
    this.finished = new Promise((resolve) => (this.#done = resolve));
  }

  /** Adds a line to the event log (the proxy's log goes here while the console runs). */
  log(line: string): void {
    const stamp = new Date().toLocaleTimeString("en-GB", { hour12: false });
    for (const l of line.split("\n")) this.events.push(`${stamp} ${l}`);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.#dirty();
  }

  /** Lists only flows matching `text` (already checked by the caller or the prompt). */
  setFilter(text: string): void {
    this.#apply({ type: "setFilter", text });
  }

  start(): void {
    this.#running = true;
    this.#relist();
    this.#unsubscribe = this.#control.store.subscribe((e) => this.#onStore(e));
    this.#enterTerminal();
    this.#term.input.on("data", this.#onInput);
    this.#term.output.on("resize", this.#onResize);
    this.#draw();
  }

  /** Restores the terminal and stops listening; the caller closes the proxy. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#drawTimer);
    this.#unsubscribe();
    this.#term.input.off("data", this.#onInput);
    this.#term.output.off("resize", this.#onResize);
    this.#leaveTerminal();
    this.#term.input.pause();
    this.#done();
  }

  #enterTerminal(): void {
    const input = this.#term.input;
    if (input.isTTY) input.setRawMode(true);
    input.setEncoding("utf8");
    input.resume();
    this.#screen.enter();
  }

  /** Puts the terminal back; safe to call twice (a crash during quit). */
  #leaveTerminal(): void {
    this.#screen.leave();
    const input = this.#term.input;
    if (input.isTTY) input.setRawMode(false);
  }

  readonly #onInput = (chunk: string | Uint8Array) => {
    const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    for (const key of decodeKeys(text)) {
      if (!this.#running) return;
      for (const effect of this.model.press(key)) this.#apply(effect);
    }
    this.#dirty(true);
  };

  readonly #onResize = () => {
    this.#screen.invalidate();
    this.#dirty(true);
  };

  #size(): [number, number] {
    return [this.#term.output.columns || 80, this.#term.output.rows || 24];
  }

  /** Schedules a frame; `now` draws at once (after a key) unless one was drawn just before. */
  #dirty(now = false): void {
    if (!this.#running || this.#drawTimer !== undefined) return;
    const wait = Math.max(0, FRAME_MS - (Date.now() - this.#lastDraw));
    if (now && wait === 0) return this.#draw();
    this.#drawTimer = setTimeout(() => this.#draw(), wait);
  }

  #draw(): void {
    this.#drawTimer = undefined;
    if (!this.#running) return;
    this.#lastDraw = Date.now();
    const [width, height] = this.#size();
    const frame = renderFrame(this.model, this.#source(), width, height);
    this.#screen.draw(frame, width, height);
  }

  #source(): RenderSource {
    const control = this.#control;
    return {
      get: (id) => control.store.get(id) ?? control.interceptor.pausedFlow(id),
      pausedAt: (id) => control.interceptor.phaseOf(id),
      title: this.#title,
      events: this.events,
      options: () =>
        Object.entries(control.options.values()).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(", ") : String(v),
        ]),
      pausedCount: () => control.interceptor.pausedCount,
    };
  }

  #matches(flow: Flow): boolean {
    return this.#filter === null || this.#filter(flow);
  }

  #relist(): void {
    const flows = this.#control.store.list({ filter: this.#filter });
    this.#listed = new Set(flows.map((f) => f.id));
    this.model.setIds(flows.map((f) => f.id));
  }

  #onStore(event: StoreEvent): void {
    switch (event.type) {
      case "added":
      case "updated": {
        const id = event.flow.id;
        const match = this.#matches(event.flow);
        if (match && !this.#listed.has(id)) {
          this.#listed.add(id);
          // Ids sort by creation time; a flow that starts matching late goes in its place.
          const ids = this.model.ids;
          if (ids.length === 0 || ids[ids.length - 1] < id) this.model.added(id);
          else {
            let lo = 0;
            let hi = ids.length;
            while (lo < hi) {
              const mid = (lo + hi) >> 1;
              if (ids[mid] < id) lo = mid + 1;
              else hi = mid;
            }
            ids.splice(lo, 0, id);
            if (lo <= this.model.cursor && !this.model.follow) this.model.cursor++;
          }
        } else if (!match && this.#listed.has(id)) {
          this.#listed.delete(id);
          this.model.removed(id);
        }
        break;
      }
      case "removed":
        if (this.#listed.delete(event.id)) this.model.removed(event.id);
        break;
      case "cleared":
        this.#listed.clear();
        this.model.setIds([]);
        break;
    }
    this.#dirty();
  }

  #flow(id: string): Flow | undefined {
    return this.#control.store.get(id) ?? this.#control.interceptor.pausedFlow(id);
  }

  #say(message: string): void {
    this.model.status = message;
    this.log(message);
  }

  #apply(effect: Effect): void {
    const control = this.#control;
    const interceptor = control.interceptor;
    this.model.status = "";
    switch (effect.type) {
      case "quit":
        this.stop();
        return;
      case "resume":
        if (!interceptor.resume(effect.id)) this.#say("that flow is not paused");
        return;
      case "resumeAll": {
        const ids = interceptor.pausedIds();
        for (const id of ids) interceptor.resume(id);
        this.#say(`resumed ${ids.length} flow${ids.length === 1 ? "" : "s"}`);
        return;
      }
      case "kill": {
        const flow = this.#flow(effect.id);
        if (interceptor.kill(effect.id)) this.#say("killed the paused flow");
        else if (flow && flow.response?.timestampEnd == null && flow.error === null) {
          flow.kill();
          this.#say("killed the flow");
        } else this.#say("the flow has finished: nothing to kill");
        return;
      }
      case "setFilter":
        this.#filter = effect.text === "" ? null : parseFilter(effect.text);
        this.#relist();
        this.#say(effect.text === "" ? "filter cleared" : `filter: ${effect.text}`);
        return;
      case "setIntercept":
        interceptor.setFilter(effect.text).then(
          () => this.#say(effect.text ? `intercepting ${effect.text}` : "interception off"),
          (e) => this.#say(`intercept filter not set: ${(e as Error).message}`),
        );
        return;
      case "replay": {
        const flow = this.#flow(effect.id);
        if (!flow) return;
        control.replayer.replay(flow).then(
          (f) =>
            this.#say(`replayed ${flow.request.method} ${flow.request.url} as a new flow ${f.id}`),
          (e) => this.#say(`replay failed: ${e instanceof ReplayError ? e.message : String(e)}`),
        );
        return;
      }
      case "delete":
        interceptor.kill(effect.id);
        control.store.remove(effect.id);
        return;
      case "clear":
        control.store.clear();
        this.#say("cleared the list");
        return;
      case "mark": {
        const flow = this.#flow(effect.id);
        if (!flow) return;
        flow.marked = !flow.marked;
        control.store.touch(flow);
        return;
      }
      case "save":
        this.#save(effect.path);
        return;
      case "edit":
        this.#edit(effect.id, effect.part);
        return;
      case "setOption":
        try {
          const value = parseOptionValue(effect.name, effect.value);
          control.options.set({ [effect.name]: value }).then(
            () => this.#say(`${effect.name} = ${effect.value}`),
            (e) => this.#say((e as Error).message),
          );
        } catch (e) {
          if (!(e instanceof OptionError)) throw e;
          this.#say(e.message);
        }
        return;
    }
  }

  #save(path: string): void {
    let recorder: FlowRecorder | null = null;
    try {
      recorder = new FlowRecorder(path);
      for (const id of this.model.ids) {
        const flow = this.#flow(id);
        if (flow) recorder.write(flow);
      }
      this.#say(`saved ${recorder.count} flows to ${path}`);
    } catch (e) {
      this.#say(`cannot save to ${path}: ${(e as Error).message}`);
    } finally {
      recorder?.close();
    }
  }

  /** Opens the part in $EDITOR (the terminal is handed over meanwhile) and applies the result. */
  #edit(id: string, part: EditPart): void {
    const flow = this.#flow(id);
    if (!flow) return;
    const paused = this.#control.interceptor.phaseOf(id);
    const side = part.startsWith("request") ? "request" : "response";
    const finished = flow.error !== null || flow.response?.timestampEnd != null;
    if (side === "response" && flow.response === null) {
      return this.#say("there is no response to edit yet");
    }
    if (paused !== side && !finished) {
      return this.#say(
        paused === null
          ? "the flow is in flight: intercept it (i) to edit it"
          : `the flow is paused at its ${paused}: its ${side} cannot change now`,
      );
    }
    const editor = process.env.VISUAL || process.env.EDITOR || "vi";
    const dir = mkdtempSync(join(tmpdir(), "mitm-edit-"));
    const file = join(dir, part.endsWith("body") ? "body" : `${part}.txt`);
    try {
      const before = partToFile(flow, part);
      writeFileSync(file, before);
      this.#leaveTerminal();
      this.#term.input.pause();
      const run = spawnSync("sh", ["-c", `${editor} "$1"`, "sh", file], { stdio: "inherit" });
      this.#enterTerminal();
      this.#screen.invalidate();
      if (run.error || run.status !== 0) {
        return this.#say(`the editor (${editor}) failed; nothing changed`);
      }
      applyFile(flow, part, before, new Uint8Array(readFileSync(file)));
      this.#control.store.touch(flow);
      this.#say(`edited the ${part.replace("-", " ")}`);
    } catch (e) {
      if (!(e instanceof EditError)) throw e;
      this.#say(`not changed: ${e.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
