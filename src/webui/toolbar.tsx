/** @jsxImportSource preact */
/**
 * The toolbar: view filter (applied as you type; a bad one keeps the old and says why), intercept
 * filter (set on Enter; a bad one is refused, the box goes back to the active one and says why),
 * selection actions, column chooser, opening files (picker or drop), theme, log and help.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import * as act from "./actions.ts";
import { call, callJson } from "./api.ts";
import type { EventLog } from "./event_log.tsx";
import type { Stats } from "./types.ts";
import { THEME_COOKIE } from "./list_html.ts";

export interface ToolbarProps {
  filter: string;
  onFilter(text: string): void;
  filterError: string | null;
  stats: Stats | null;
  statsText: string;
  selectedCount: number;
  columns: { id: string; label: string; shown: boolean }[];
  onColumns(ids: string[]): void;
  onExport(kind: "jsonl" | "har"): void;
  onDelete(): void;
  onReplay(): void;
  onMark(): void;
  onToggleLog(): void;
  onHelp(): void;
  onCompose(): void;
  onRules(): void;
  onOpened(message: string): void;
  onFailed(e: unknown): void;
  log: EventLog;
}

type Theme = "auto" | "light" | "dark";

/**
 * The page's theme. A chosen one is also kept in a cookie: the server sends the page in it, so the
 * rows painted before the script are not drawn in the other theme first.
 */
function applyTheme(theme: Theme): void {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const age = theme === "auto" ? 0 : 400 * 86400;
  document.cookie = `${THEME_COOKIE}=${theme}; path=/; max-age=${age}; SameSite=Strict`;
}

export function Toolbar(props: ToolbarProps) {
  const [text, setText] = useState(props.filter);
  const [intercept, setIntercept] = useState("");
  const [interceptError, setInterceptError] = useState<string | null>(null);
  /** The filter the proxy has now: what we set last, or what its stats say. */
  const active = useRef("");
  const [theme, setTheme] = useState<Theme>(
    (localStorage.getItem("mitm.theme") as Theme | null) ?? "auto",
  );
  const [columnsOpen, setColumnsOpen] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const interceptBox = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => applyTheme(theme), [theme]);
  // Shows the active intercept filter unless the user is typing in the box.
  useEffect(() => {
    if (props.stats) active.current = props.stats.intercept;
    if (props.stats && document.activeElement !== interceptBox.current) {
      setIntercept(props.stats.intercept);
    }
  }, [props.stats?.intercept]);

  const openFile = async (file: File) => {
    try {
      props.onOpened(await act.importFile(file));
    } catch (e) {
      props.onFailed(e);
    }
  };
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes("Files")) {
        e.preventDefault();
        document.body.classList.add("dropping");
      }
    };
    const leave = () => document.body.classList.remove("dropping");
    const drop = (e: DragEvent) => {
      const file = e.dataTransfer?.files[0];
      leave();
      if (!file) return;
      e.preventDefault();
      void openFile(file);
    };
    addEventListener("dragover", over);
    addEventListener("dragleave", leave);
    addEventListener("drop", drop);
    return () => {
      removeEventListener("dragover", over);
      removeEventListener("dragleave", leave);
      removeEventListener("drop", drop);
    };
  }, []);

  const setInterceptFilter = async () => {
    const wanted = intercept.trim();
    try {
      await callJson("/api/intercept", { method: "PUT", json: { filter: wanted } });
      setInterceptError(null);
      active.current = wanted;
      props.log.add("info", wanted ? `intercepting ${wanted}` : "interception off");
    } catch (e) {
      const kept = active.current;
      setInterceptError(
        `${(e as Error).message}: kept the active filter ${kept ? `"${kept}"` : "(none)"}`,
      );
      setIntercept(kept);
      props.log.add("warn", `intercept filter refused: ${(e as Error).message}`);
    }
  };

  const cycleTheme = () => {
    const next: Theme = theme === "auto" ? "dark" : theme === "dark" ? "light" : "auto";
    localStorage.setItem("mitm.theme", next);
    setTheme(next);
  };

  return (
    <header>
      <div class="bar">
        <strong class="brand">mitm.ts</strong>
        <label>
          Filter{" "}
          <input
            id="filter"
            value={text}
            placeholder="~d example.com & !~t image"
            spellcheck={false}
            autocomplete="off"
            onInput={(e) => {
              const v = e.currentTarget.value;
              setText(v);
              if (timer.current) clearTimeout(timer.current);
              timer.current = setTimeout(() => props.onFilter(v), 250);
            }}
          />
        </label>
        <label>
          Intercept{" "}
          <input
            id="intercept"
            ref={interceptBox}
            value={intercept}
            placeholder="~u /api & ~m POST"
            spellcheck={false}
            autocomplete="off"
            onInput={(e) => setIntercept(e.currentTarget.value)}
            onKeyDown={(e) => e.key === "Enter" && setInterceptFilter()}
          />
        </label>
        <span id="stats">{props.statsText}</span>
        <span class="spacer" />
        <button type="button" id="toggle-log" onClick={props.onToggleLog}>Log</button>
        <button
          type="button"
          id="theme"
          onClick={cycleTheme}
          title="Theme: auto follows the system"
        >
          Theme: {theme}
        </button>
        <button type="button" id="help-button" onClick={props.onHelp} title="Keyboard (?)">
          ?
        </button>
      </div>
      <div class="bar">
        <span class="muted">
          {props.selectedCount > 1 ? `${props.selectedCount} selected:` : "Flows:"}
        </span>
        <button type="button" id="replay-selected" onClick={props.onReplay}>Replay</button>
        <button type="button" id="mark-selected" onClick={props.onMark}>Mark</button>
        <button type="button" id="delete-selected" onClick={props.onDelete}>Delete</button>
        <button type="button" id="export-jsonl" onClick={() => props.onExport("jsonl")}>
          Export JSON lines
        </button>
        <button type="button" id="export-har" onClick={() => props.onExport("har")}>
          Export HAR
        </button>
        <a id="har" href="/api/flows.har" download="flows.har">Download all as HAR</a>
        <button type="button" id="compose-button" onClick={props.onCompose}>Compose…</button>
        <button type="button" id="rules-button" onClick={props.onRules}>Rules…</button>
        <button type="button" id="open-file" onClick={() => fileInput.current?.click()}>
          Open file…
        </button>
        <input
          type="file"
          id="file-input"
          ref={fileInput}
          hidden
          accept=".jsonl,.har,.json,.mitm,application/json"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void openFile(file);
            e.currentTarget.value = "";
          }}
        />
        <button type="button" id="clear" onClick={() => call("/api/clear", { method: "POST" })}>
          Clear
        </button>
        <span class="columns-chooser">
          <button type="button" id="columns" onClick={() => setColumnsOpen((o) => !o)}>
            Columns
          </button>
          {columnsOpen
            ? (
              <div class="menu" id="columns-menu">
                {props.columns.map((c) => (
                  <label>
                    <input
                      type="checkbox"
                      data-col={c.id}
                      checked={c.shown}
                      onChange={(e) => {
                        const on = e.currentTarget.checked;
                        props.onColumns(
                          props.columns.filter((x) => (x.id === c.id ? on : x.shown)).map((x) =>
                            x.id
                          ),
                        );
                      }}
                    />{" "}
                    {c.label === "★" ? "Mark ★" : c.label}
                  </label>
                ))}
              </div>
            )
            : null}
        </span>
      </div>
      {props.filterError ? <div id="filter-error" class="error">{props.filterError}</div> : null}
      {interceptError ? <div id="intercept-error" class="error">{interceptError}</div> : null}
    </header>
  );
}
