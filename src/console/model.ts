/**
 * The console's state and what each key does, without a terminal: keys go in, the state changes,
 * and effects come out for the app to carry out (resume a flow, set a filter, open $EDITOR...).
 * Tests drive it directly. Keys follow mitmproxy's console where it has one.
 */
import { FilterError, parseFilter } from "../filter/mod.ts";
import { nextView, type ViewName } from "../contentviews/mod.ts";
import type { Key } from "./keys.ts";

export type ViewKind = "list" | "flow" | "help" | "events" | "options";
export type Tab = "request" | "response" | "detail" | "websocket";
export const TABS: readonly Tab[] = ["request", "response", "detail", "websocket"];

export type EditPart =
  | "request-line"
  | "request-headers"
  | "request-body"
  | "response-line"
  | "response-headers"
  | "response-body";

export type Effect =
  | { type: "quit" }
  | { type: "resume"; id: string }
  | { type: "resumeAll" }
  | { type: "kill"; id: string }
  | { type: "setFilter"; text: string }
  | { type: "setIntercept"; text: string }
  | { type: "replay"; id: string }
  | { type: "delete"; id: string }
  | { type: "clear" }
  | { type: "mark"; id: string }
  | { type: "save"; path: string }
  | { type: "edit"; id: string; part: EditPart }
  | { type: "setOption"; name: string; value: string };

export type PromptKind = "filter" | "intercept" | "save" | "option" | "quit" | "edit";

export interface Prompt {
  kind: PromptKind;
  text: string;
  /** A problem with the text, shown under it (a filter error points at its position). */
  error: string | null;
  errorAt: number | null;
  /** For "option": which option is being set. */
  option?: string;
}

/** What the model needs to know about the flows it lists. */
export interface FlowFacts {
  /** Whether the flow has a response yet (for the response tab and edits). */
  hasResponse(id: string): boolean;
  /** Where the flow is paused, or null. */
  pausedAt(id: string): "request" | "response" | null;
}

const PROMPT_LABEL: Record<PromptKind, string> = {
  filter: "Filter: ",
  intercept: "Intercept filter: ",
  save: "Save flows to file: ",
  option: "Set ",
  quit: "Quit mitm.ts? (y/n) ",
  edit: "",
};

export class ConsoleModel {
  view: ViewKind = "list";
  /** Flow ids in the list, oldest first. */
  ids: string[] = [];
  cursor = 0;
  /** Keep the cursor on the newest flow as flows arrive, until the user moves away. */
  follow = true;
  filterText = "";
  interceptText = "";
  tab: Tab = "request";
  contentView: ViewName = "auto";
  /** First line shown in the flow, help, events and options views. */
  scroll = 0;
  /** The option the cursor is on in the options view. */
  optionCursor = 0;
  prompt: Prompt | null = null;
  /** A one-line message in the status bar (the last thing that happened). */
  status = "";
  /** Rows available for the list or a page, set by the app from the terminal size. */
  pageRows = 20;
  readonly optionNames: string[];
  readonly #facts: FlowFacts;

  constructor(facts: FlowFacts, optionNames: string[] = []) {
    this.#facts = facts;
    this.optionNames = optionNames;
  }

  get selected(): string | null {
    return this.ids[this.cursor] ?? null;
  }

  /** Replaces the list (after a filter change); the cursor stays on the same flow if it can. */
  setIds(ids: string[]): void {
    const current = this.selected;
    this.ids = ids;
    const at = current === null ? -1 : ids.indexOf(current);
    this.cursor = this.follow || at < 0 ? Math.max(0, ids.length - 1) : at;
    if (this.follow) this.cursor = Math.max(0, ids.length - 1);
  }

  /** A flow joined the list (they arrive in order). */
  added(id: string): void {
    this.ids.push(id);
    if (this.follow) this.cursor = this.ids.length - 1;
  }

  /** A flow left the list. */
  removed(id: string): void {
    const at = this.ids.indexOf(id);
    if (at < 0) return;
    this.ids.splice(at, 1);
    if (at < this.cursor || this.cursor >= this.ids.length) {
      this.cursor = Math.max(0, this.cursor - 1);
    }
    if (this.view === "flow" && this.ids.length === 0) this.view = "list";
  }

  /** Handles one key; returns what the app must do. */
  press(key: Key): Effect[] {
    if (key.kind === "ctrl-c") return [{ type: "quit" }];
    if (this.prompt !== null) return this.#promptKey(key);
    switch (this.view) {
      case "list":
        return this.#listKey(key);
      case "flow":
        return this.#flowKey(key);
      case "options":
        return this.#optionsKey(key);
      default:
        return this.#pageKey(key);
    }
  }

  /** Shows a filter error under the prompt (the app checks filters the model cannot). */
  promptError(message: string, at: number | null = null): void {
    if (this.prompt) {
      this.prompt.error = message;
      this.prompt.errorAt = at;
    }
  }

  promptLabel(): string {
    if (this.prompt?.kind === "option") return `Set ${this.prompt.option} = `;
    if (this.prompt?.kind === "edit") return "Edit: (l)ine, (h)eaders, (b)ody? ";
    return this.prompt ? PROMPT_LABEL[this.prompt.kind] : "";
  }

  #open(kind: PromptKind, text = "", option?: string): Effect[] {
    this.prompt = { kind, text, error: null, errorAt: null, option };
    return [];
  }

  #promptKey(key: Key): Effect[] {
    const p = this.prompt!;
    if (key.kind === "escape") {
      this.prompt = null;
      return [];
    }
    if (p.kind === "quit") {
      this.prompt = null;
      return key.kind === "char" && (key.char === "y" || key.char === "Y") ||
          key.kind === "enter"
        ? [{ type: "quit" }]
        : [];
    }
    if (p.kind === "edit") {
      this.prompt = null;
      if (key.kind !== "char") return [];
      const which = { l: "line", h: "headers", b: "body" }[key.char];
      const id = this.selected;
      if (which === undefined || id === null) return [];
      // In the list, the side where the flow is paused; in the flow view, the tab shown.
      const paused = this.#facts.pausedAt(id);
      const side = this.view === "flow" && this.tab === "response"
        ? "response"
        : this.view === "flow" && this.tab === "request"
        ? "request"
        : paused ?? "request";
      return [{ type: "edit", id, part: `${side}-${which}` as EditPart }];
    }
    if (key.kind === "backspace") {
      p.text = p.text.slice(0, -1);
      p.error = null;
      return [];
    }
    if (key.kind === "char") {
      p.text += key.char;
      p.error = null;
      return [];
    }
    if (key.kind !== "enter") return [];
    const text = p.text.trim();
    switch (p.kind) {
      case "filter":
      case "intercept": {
        if (text !== "") {
          try {
            parseFilter(text);
          } catch (e) {
            if (!(e instanceof FilterError)) throw e;
            p.error = e.message;
            p.errorAt = e.position;
            return []; // the old filter stays in force; the prompt stays open
          }
        }
        this.prompt = null;
        if (p.kind === "filter") {
          this.filterText = text;
          return [{ type: "setFilter", text }];
        }
        this.interceptText = text;
        return [{ type: "setIntercept", text }];
      }
      case "save":
        if (text === "") {
          p.error = "type a file name";
          return [];
        }
        this.prompt = null;
        return [{ type: "save", path: text }];
      case "option":
        this.prompt = null;
        return [{ type: "setOption", name: p.option!, value: p.text }];
    }
    return [];
  }

  #move(to: number): void {
    const last = Math.max(0, this.ids.length - 1);
    this.cursor = Math.min(last, Math.max(0, to));
    this.follow = this.cursor === last;
  }

  /** Keys that work wherever a flow is selected (list and flow view). */
  #flowAction(key: Key): Effect[] | null {
    if (key.kind !== "char") return null;
    const id = this.selected;
    switch (key.char) {
      case "f":
        return this.#open("filter", this.filterText);
      case "i":
        return this.#open("intercept", this.interceptText);
      case "A":
        return [{ type: "resumeAll" }];
      case "z":
        return [{ type: "clear" }];
      case "w":
        return this.#open("save", "flows.jsonl");
      case "E":
        this.view = "events";
        this.scroll = 0;
        return [];
      case "O":
        this.view = "options";
        return [];
      case "?":
        this.view = "help";
        this.scroll = 0;
        return [];
    }
    if (id === null) return null;
    switch (key.char) {
      case "a":
        return [{ type: "resume", id }];
      case "x":
        return [{ type: "kill", id }];
      case "r":
        return [{ type: "replay", id }];
      case "d":
        return [{ type: "delete", id }];
      case "e":
        return this.#open("edit");
    }
    return null;
  }

  #listKey(key: Key): Effect[] {
    switch (key.kind) {
      case "up":
      case "wheelup":
        this.#move(this.cursor - 1);
        return [];
      case "down":
      case "wheeldown":
        this.#move(this.cursor + 1);
        return [];
      case "pageup":
        this.#move(this.cursor - this.pageRows);
        return [];
      case "pagedown":
        this.#move(this.cursor + this.pageRows);
        return [];
      case "home":
        this.#move(0);
        return [];
      case "end":
        this.#move(this.ids.length - 1);
        return [];
      case "enter":
        if (this.selected !== null) {
          this.view = "flow";
          this.scroll = 0;
          this.tab = this.#facts.pausedAt(this.selected) === "response" ? "response" : "request";
        }
        return [];
      case "char":
        switch (key.char) {
          case "j":
            this.#move(this.cursor + 1);
            return [];
          case "k":
            this.#move(this.cursor - 1);
            return [];
          case "g":
            this.#move(0);
            return [];
          case "G":
            this.#move(this.ids.length - 1);
            return [];
          case "q":
            return this.#open("quit");
          case "m":
            return this.selected === null ? [] : [{ type: "mark", id: this.selected }];
        }
        return this.#flowAction(key) ?? [];
    }
    return [];
  }

  #flowKey(key: Key): Effect[] {
    const tabAt = TABS.indexOf(this.tab);
    switch (key.kind) {
      case "escape":
        this.view = "list";
        return [];
      case "tab":
      case "right":
        this.tab = TABS[(tabAt + 1) % TABS.length];
        this.scroll = 0;
        return [];
      case "left":
        this.tab = TABS[(tabAt + TABS.length - 1) % TABS.length];
        this.scroll = 0;
        return [];
      case "char":
        switch (key.char) {
          case "q":
            this.view = "list";
            return [];
          case "m":
            this.contentView = nextView(this.contentView);
            return [];
          case "h":
            this.tab = TABS[(tabAt + TABS.length - 1) % TABS.length];
            this.scroll = 0;
            return [];
          case "l":
            this.tab = TABS[(tabAt + 1) % TABS.length];
            this.scroll = 0;
            return [];
        }
        return this.#flowAction(key) ?? this.#pageKey(key);
    }
    return this.#pageKey(key);
  }

  /** Scrolling a page of text (flow details, help, events). */
  #pageKey(key: Key): Effect[] {
    switch (key.kind) {
      case "up":
      case "wheelup":
        this.scroll = Math.max(0, this.scroll - 1);
        return [];
      case "down":
      case "wheeldown":
        this.scroll++;
        return [];
      case "pageup":
        this.scroll = Math.max(0, this.scroll - this.pageRows);
        return [];
      case "pagedown":
        this.scroll += this.pageRows;
        return [];
      case "char":
        if (key.char === " ") this.scroll += this.pageRows;
        else if (key.char === "j") this.scroll++;
        else if (key.char === "k") this.scroll = Math.max(0, this.scroll - 1);
        else if (key.char === "g") this.scroll = 0;
        else if (key.char === "G") this.scroll = Number.MAX_SAFE_INTEGER;
        else if (key.char === "q") this.view = "list";
        return [];
      case "escape":
        this.view = "list";
        return [];
    }
    return [];
  }

  #optionsKey(key: Key): Effect[] {
    const last = Math.max(0, this.optionNames.length - 1);
    if (key.kind === "down" || (key.kind === "char" && key.char === "j")) {
      this.optionCursor = Math.min(last, this.optionCursor + 1);
    } else if (key.kind === "up" || (key.kind === "char" && key.char === "k")) {
      this.optionCursor = Math.max(0, this.optionCursor - 1);
    } else if (key.kind === "enter" && this.optionNames.length > 0) {
      return this.#open("option", "", this.optionNames[this.optionCursor]);
    } else if (key.kind === "escape" || (key.kind === "char" && key.char === "q")) {
      this.view = "list";
    }
    return [];
  }
}
