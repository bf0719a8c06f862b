/** @jsxImportSource preact */
/**
 * The web UI's root: the toolbar, the flow list, the details pane and the event log, wired to
 * the control API and its live events. State that must survive a reload (columns, widths, theme)
 * lives in localStorage.
 */
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";

/** A counter and a function that bumps it: a re-render on demand. */
function useTick(): [number, () => void] {
  const [n, dispatch] = useReducer((x: number, _: null) => x + 1, 0);
  return [n, () => dispatch(null)];
}
import * as act from "./actions.ts";
import { callJson, flowPath, setUnauthorizedHandler } from "./api.ts";
import { columnById, COLUMNS, DEFAULT_COLUMNS } from "./columns.ts";
import { applySorted, nextSort, sortParams, type SortState } from "./sorting.ts";
import {
  apiSort,
  firstPageSize,
  FULL_PAGE,
  listQuery,
  savedSort,
  streamQuery,
  takeInlinePage,
} from "./first_load.ts";
import { type DetailActions, Details } from "./details.tsx";
import { EventLog, EventLogPane } from "./event_log.tsx";
import { FlowList } from "./flow_list.tsx";
import { headerValues } from "./format.ts";
import { Compose } from "./compose.tsx";
import { Help } from "./help.tsx";
import { Rules } from "./rules.tsx";
import { Live } from "./live.ts";
import { useShortcuts } from "./shortcuts.ts";
import { FlowStore } from "./store.ts";
import { Toolbar } from "./toolbar.tsx";
import type { FlowDetail, FlowPage, FlowsEvent, Stats, Summary } from "./types.ts";

/**
 * Flows per request after the first FULL_PAGE (first_load.ts): older pages come when their
 * placeholder rows scroll into view. Filters run in the proxy's store.
 */
const OLDER_PAGE = 1000;

/** Runs `fn` after the next frame is painted (a task queued from the frame's callback). */
function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

function saved<T>(key: string, fallback: T): T {
  try {
    const v = localStorage.getItem(`mitm.${key}`);
    return v === null ? fallback : JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}
function save(key: string, value: unknown): void {
  localStorage.setItem(`mitm.${key}`, JSON.stringify(value));
}

export function App() {
  // The newest flows the page came with (arrival order only): the list shows them at once, and
  // the event stream's hello replaces them.
  const inline = useMemo(() => (savedSort().key === null ? takeInlinePage() : null), []);
  const store = useMemo(() => {
    const s = new FlowStore();
    if (inline) s.replaceAll(inline.flows);
    return s;
  }, []);
  const [, rerender] = useTick();
  const log = useMemo(() => new EventLog(rerender), []);
  const [filter, setFilter] = useState("");
  const [filterError, setFilterError] = useState<string | null>(null);
  const [stats, setStats] = useState<Stats | null>(inline);
  const [page, setPage] = useState<
    { total?: number; more: boolean; cursor: string | null; capped?: boolean }
  >(() =>
    inline
      ? { total: inline.total, more: inline.more === true, cursor: inline.cursor ?? null }
      : { more: false, cursor: null }
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [focus, setFocus] = useState<string | null>(null);
  const [detail, setDetail] = useState<FlowDetail | null>(null);
  const [detailVersion, bumpDetail] = useTick();
  const [sort, setSort] = useState<SortState>(savedSort);
  // The live handlers are made once: they read the current sort and page through refs.
  const sortRef = useRef(sort);
  sortRef.current = sort;
  /** New flows a sorted list (not by start) has not put in: the "new flows" hint. */
  const [newFlows, setNewFlows] = useState(0);
  const [columnIds, setColumnIds] = useState<string[]>(saved("columns", DEFAULT_COLUMNS));
  const [widths, setWidths] = useState<Record<string, number>>(saved("widths", {}));
  const [banner, setBanner] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [showLog, setShowLog] = useState(false);
  const [showHelp, setShowHelp] = useState(false);
  const [composing, setComposing] = useState(false);
  const [showRules, setShowRules] = useState(false);
  const [scrollRequest, setScrollRequest] = useState({
    to: (inline ? "bottom" : "focus") as "bottom" | "top" | "focus",
    n: 0,
  });
  const loadingOlder = useRef(false);
  /**
   * Placeholder rows in view wait while a load is under way and until the rest of its first
   * FULL_PAGE is asked for (they would otherwise ask for a page of their own meanwhile).
   */
  const holdPages = useRef(true);
  const focusRef = useRef<string | null>(null);
  focusRef.current = focus;

  const scroll = (to: "bottom" | "top" | "focus") => setScrollRequest((s) => ({ to, n: s.n + 1 }));
  const say = (text: string, level: "info" | "warn" | "error" = "info") => {
    setNotice(text);
    log.add(level, text);
  };
  const fail = (e: unknown) => say((e as Error).message ?? String(e), "error");

  const atBottom = () => {
    const vp = document.getElementById("viewport");
    return !vp || vp.scrollTop + vp.clientHeight >= vp.scrollHeight - 30;
  };

  const live = useMemo(() =>
    new Live({
      hello(s, back) {
        setStats(s);
        if (!back) return;
        setBanner(null);
        log.add("info", "the proxy is back: list reloaded");
        void load(currentFilter.current);
      },
      flows(ev) {
        // Events that arrive while the list loads are applied after it (upserts are idempotent).
        if (pending.current) return void pending.current.push(ev);
        const follow = atBottom();
        for (const f of ev.upsert) {
          const before = store.get(f.id);
          if (f.error && !before?.error) log.add("error", `${f.request.url}: ${f.error}`);
          if (f.intercepted && !before?.intercepted) {
            log.add("warn", `paused at its ${f.intercepted}: ${f.request.method} ${f.request.url}`);
          }
        }
        const counted = applyEvent(ev);
        setStats(ev.stats);
        // The count of matching flows in the store follows: it sizes the placeholders.
        if (ev.clear) {
          setPage({ total: store.flows.length, more: false, cursor: null });
          setNewFlows(0);
        } else if (counted !== 0) {
          setPage((p) => ({ ...p, total: p.total === undefined ? p.total : p.total + counted }));
        }
        if (focusRef.current && ev.upsert.some((f) => f.id === focusRef.current)) {
          bumpDetail();
        }
        if (focusRef.current && ev.remove.includes(focusRef.current)) setFocus(null);
        rerender();
        if (follow && sortRef.current.key === null) scroll("bottom");
      },
      log(entry) {
        log.add(
          entry.level === "error" ? "error" : entry.level === "warn" ? "warn" : "info",
          entry.message,
          entry.timestamp,
        );
      },
      lost() {
        setBanner("The proxy is gone (stopped or unreachable): reconnecting…");
        log.add("error", "lost the connection to the proxy");
      },
    }), []);
  const currentFilter = useRef("");
  const pending = useRef<FlowsEvent[] | null>(null);
  const pageRef = useRef(page);
  pageRef.current = page;

  /**
   * Applies a live event to the list in its order; returns how the count of matching flows
   * changed (new ones in, listed ones out).
   */
  function applyEvent(ev: FlowsEvent): number {
    const sortNow = sortRef.current;
    const name = apiSort(sortNow);
    if (name !== undefined) {
      const change = applySorted(store, ev, name, sortNow.descending, !pageRef.current.more);
      if (change.hinted) setNewFlows((n) => n + change.hinted);
      return change.added + change.elsewhere - change.removed;
    }
    const added = ev.upsert.filter((f) => !store.has(f.id)).length;
    const removed = ev.remove.filter((id) => store.has(id)).length;
    store.apply(ev);
    return added - removed;
  }

  /** Counts calls of load(): an answer for an older one (the filter changed since) is dropped. */
  const loads = useRef(0);
  const [filtering, setFiltering] = useState(false);

  async function load(text: string): Promise<void> {
    const sortNow = sortRef.current;
    const q = listQuery(sortNow, text);
    const first = firstPageSize();
    const generation = ++loads.current;
    const stale = () => generation !== loads.current;
    setFiltering(true);
    holdPages.current = true;
    try {
      // Listen first, then list: nothing that happens in between is lost.
      const previous = currentFilter.current;
      pending.current = [];
      // The stream's hello brings the first page (one round trip); an older proxy sends only
      // its stats, and a refused filter no hello at all: then the list is asked for after it.
      const hello = await live.open(streamQuery(sortNow, text, first));
      if (stale()) return;
      let body: FlowPage;
      // How many were asked for: a proxy without paging gives at most that many, no more or less.
      const asked = hello && "flows" in hello ? first : FULL_PAGE;
      try {
        body = hello && "flows" in hello
          ? hello
          : await callJson<FlowPage>(`/api/flows${q ? `${q}&` : "?"}limit=${asked}`);
        if (stale()) return;
      } catch (e) {
        if (stale()) return;
        pending.current = null;
        if (text !== previous) {
          void live.open(listQuery(sortNow, previous));
        }
        throw e;
      }
      setFilterError(null);
      currentFilter.current = text;
      store.replaceAll(body.flows);
      setNewFlows(0);
      const queued = pending.current ?? [];
      pending.current = null;
      let total = body.total;
      const loaded = {
        total,
        more: body.more === true,
        cursor: body.cursor ?? null,
        // A proxy without paging gives no cursor: say that older flows were left out.
        capped: body.more === undefined && body.flows.length >= asked,
      };
      pageRef.current = loaded;
      for (const ev of queued) {
        const counted = applyEvent(ev);
        if (total !== undefined) total += Math.max(0, counted);
      }
      setStats(body);
      setPage({ ...loaded, total });
      setSelected((s) => new Set([...s].filter((id) => store.has(id))));
      if (focusRef.current && !store.has(focusRef.current)) setFocus(null);
      rerender();
      // The newest flows are the ones loaded: show them (older ones load when scrolled to); a
      // sorted list shows its first page.
      scroll(focusRef.current ? "focus" : sortNow.key === null ? "bottom" : "top");
      // The first page filled the window; the rest of the first FULL_PAGE follows once these
      // rows are painted (its answer handled before that frame would hold the frame back).
      const rest = FULL_PAGE - body.flows.length;
      if (loaded.more && rest > 0) {
        afterPaint(() => {
          if (stale()) return;
          holdPages.current = false;
          void (sortNow.key === null ? loadOlder(loaded, rest) : loadMore(loaded, sortNow, rest));
        });
      } else holdPages.current = false;
    } catch (e) {
      // The list stays as it was: its placeholders may ask for pages again.
      if (!stale()) holdPages.current = false;
      const message = (e as Error).message;
      if (/filter/i.test(message) || text !== currentFilter.current) {
        setFilterError(`${message} (still showing: ${currentFilter.current || "all flows"})`);
        log.add("warn", `filter refused: ${message}`);
      } else fail(e);
    } finally {
      if (!stale()) setFiltering(false);
    }
  }

  /** Older flows than the loaded ones (`from`: where the list is now; `limit`: how many). */
  async function loadOlder(from = page, limit = OLDER_PAGE): Promise<void> {
    if (!from.more || !from.cursor || loadingOlder.current || sortRef.current.key !== null) return;
    loadingOlder.current = true;
    const generation = loads.current;
    try {
      const q = new URLSearchParams({ before: from.cursor, limit: String(limit) });
      if (currentFilter.current) q.set("filter", currentFilter.current);
      const body = await callJson<FlowPage>(`/api/flows?${q}`);
      if (generation !== loads.current) return; // the filter changed meanwhile
      // The page fills placeholder rows in place: what is on screen does not move.
      store.prepend(body.flows);
      setPage((p) => ({
        total: p.total,
        more: body.more === true,
        cursor: body.cursor ?? null,
      }));
      rerender();
    } catch (e) {
      fail(e);
    } finally {
      loadingOlder.current = false;
    }
  }

  /** The next page of a sorted list (its placeholders below came into view). */
  async function loadMore(from = page, order = sort, limit = OLDER_PAGE): Promise<void> {
    const name = apiSort(order);
    if (!from.more || !from.cursor || loadingOlder.current || name === undefined) return;
    loadingOlder.current = true;
    const generation = loads.current;
    try {
      const q = new URLSearchParams({
        ...sortParams(order, name),
        cursor: from.cursor,
        limit: String(limit),
      });
      if (currentFilter.current) q.set("filter", currentFilter.current);
      const body = await callJson<FlowPage>(`/api/flows?${q}`);
      if (generation !== loads.current) return; // the sort or filter changed meanwhile
      store.append(body.flows);
      setPage((p) => ({ total: p.total, more: body.more === true, cursor: body.cursor ?? null }));
      rerender();
    } catch (e) {
      fail(e);
    } finally {
      loadingOlder.current = false;
    }
  }

  // The proxy's own log lines, on a proxy that streams them (GET /api/log/events).
  useEffect(() => {
    const source = new EventSource("/api/log/events");
    source.addEventListener("log", (e) => {
      const { lines } = JSON.parse((e as MessageEvent).data) as {
        lines: { time: number; level: string; message: string }[];
      };
      for (const l of lines) {
        const level = l.level === "error" ? "error" : l.level === "warn" ? "warn" : "info";
        log.add(level, l.message, l.time);
      }
    });
    // An older proxy has no such stream: stop asking.
    source.onerror = () => source.readyState === EventSource.CLOSED && source.close();
    return () => source.close();
  }, []);

  // A layout effect: the first page is asked for before the empty frame is painted, not after.
  useLayoutEffect(() => {
    setUnauthorizedHandler((m) => setBanner(m));
    void load("");
    return () => live.close();
  }, []);

  // The focused flow's whole record, refetched when its summary changes.
  useEffect(() => {
    if (focus === null) return setDetail(null);
    let current = true;
    callJson<FlowDetail>(`${flowPath(focus)}?body_limit=0`)
      .then((d) => current && setDetail(d))
      .catch(fail);
    return () => {
      current = false;
    };
  }, [focus, detailVersion]);

  // An open WebSocket's messages, and an open event stream's events, arrive without a summary
  // change: poll while they are open.
  const openWebSocket = !!detail?.websocket && detail.websocket.timestampEnd === null;
  const openEventStream = !!detail?.response && detail.response.timestampEnd === null &&
    /^text\/event-stream/i.test(headerValues(detail.response.headers, "content-type")[0] ?? "");
  useEffect(() => {
    if (!openWebSocket && !openEventStream) return;
    const t = setInterval(bumpDetail, 1000);
    return () => clearInterval(t);
  }, [detail?.id, openWebSocket, openEventStream]);

  const columns = columnIds.map(columnById).filter((c) => c !== undefined);
  const sorted = sort.key !== null;
  const rows = store.flows;
  // Matching flows in the store not loaded yet: older than the pages so far (placeholders above),
  // or, sorted, after them in the order (placeholders below).
  const matching = !filter && stats && !sorted ? stats.count : page.total ?? store.flows.length;
  const unloaded = page.more ? Math.max(0, matching - store.flows.length) : 0;
  const missing = sorted ? 0 : unloaded;
  const missingAfter = sorted ? unloaded : 0;

  const targets = (): string[] => selected.size ? [...selected] : focus !== null ? [focus] : [];
  const paused = (): Summary[] => store.flows.filter((f) => f.intercepted);

  const actions = {
    async replay() {
      for (const id of targets()) {
        try {
          const f = await act.replay(id);
          store.upsert(f);
        } catch (e) {
          fail(e);
        }
      }
      rerender();
    },
    async remove() {
      const ids = targets();
      for (const id of ids) await act.remove(id).catch(fail);
      store.remove(ids);
      setSelected(new Set());
      setFocus(null);
    },
    async toggleMark() {
      const ids = targets();
      const mark = !ids.every((id) => store.get(id)?.marked);
      for (const id of ids) {
        try {
          store.upsert(await act.setMarked(id, mark));
        } catch (e) {
          fail(e);
          break;
        }
      }
      bumpDetail();
      rerender();
    },
    async resume() {
      const f = focus !== null ? store.get(focus) : undefined;
      if (f?.intercepted) await act.resume(f.id).catch(fail);
    },
    async resumeAll() {
      const all = paused();
      await act.resumeAll(all.map((f) => f.id)).catch(fail);
      if (all.length) log.add("info", `resumed ${all.length} paused flows`);
    },
    async kill() {
      if (focus !== null) await act.kill(focus).catch(fail);
    },
    async copyAs(format: string) {
      if (focus === null) return;
      try {
        const text = await act.copyAs(focus, format);
        await navigator.clipboard.writeText(text).catch(() => {});
        say(`copied as ${format}`);
      } catch (e) {
        fail(e);
      }
    },
    resumed() {
      bumpDetail();
    },
    async setComment(text: string): Promise<boolean> {
      if (focus === null) return false;
      try {
        store.upsert(await act.setComment(focus, text));
      } catch (e) {
        fail(e);
        return false;
      }
      say(text ? "comment saved" : "comment deleted");
      bumpDetail();
      rerender();
      return true;
    },
    async exportSelection(kind: "jsonl" | "har") {
      const ids = targets();
      if (!ids.length) return say("select flows to export first", "warn");
      await act.exportSelection(ids, kind).catch(fail);
    },
  };
  const detailActions: DetailActions = actions;

  const select = (id: string | null) => {
    setFocus(id);
    setSelected(id === null ? new Set() : new Set([id]));
    scroll("focus");
  };
  const onRowClick = (id: string, e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey) {
      const next = new Set(selected);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      setSelected(next);
      setFocus(id);
    } else if (e.shiftKey && focus !== null) {
      const a = rows.findIndex((f) => f.id === focus);
      const b = rows.findIndex((f) => f.id === id);
      const [lo, hi] = a < b ? [a, b] : [b, a];
      setSelected(new Set(rows.slice(lo, hi + 1).map((f) => f.id)));
    } else select(id);
  };
  const move = (delta: number) => {
    if (!rows.length) return;
    let i = focus === null ? -1 : rows.findIndex((f) => f.id === focus);
    i = Math.max(0, Math.min(rows.length - 1, i + delta));
    select(rows[i].id);
  };

  useShortcuts({
    next: () => move(1),
    previous: () => move(-1),
    open: () => focus === null && rows.length && select(rows[0].id),
    close: () => (showHelp ? setShowHelp(false) : select(null)),
    focusFilter: () => document.getElementById("filter")?.focus(),
    focusIntercept: () => document.getElementById("intercept")?.focus(),
    resume: actions.resume,
    resumeAll: actions.resumeAll,
    replay: actions.replay,
    remove: actions.remove,
    mark: actions.toggleMark,
    help: () => setShowHelp((v) => !v),
  });

  const pausedCount = stats?.paused ?? paused().length;
  const shownOf = stats ? (filter ? ` shown of ${stats.count}` : "") : "";
  const loaded = page.more && store.flows.length < matching
    ? ` (${store.flows.length} loaded)`
    : page.capped
    ? ` (the newest ${store.flows.length} loaded; filter to see older ones)`
    : "";

  return (
    <>
      <Toolbar
        filter={filter}
        onFilter={(text) => {
          setFilter(text);
          void load(text.trim());
        }}
        filterError={filterError}
        stats={stats}
        statsText={stats
          ? `${page.more ? matching : store.flows.length}${shownOf} flows${loaded}${
            stats.dropped ? ` · ${stats.dropped} dropped (flow_store_max_bytes)` : ""
          }${pausedCount ? ` · ${pausedCount} paused` : ""}${filtering ? " · loading…" : ""}`
          : ""}
        selectedCount={selected.size}
        columns={COLUMNS.map((c) => ({
          id: c.id,
          label: c.label,
          shown: columnIds.includes(c.id),
        }))}
        onColumns={(ids) => {
          setColumnIds(ids);
          save("columns", ids);
        }}
        onExport={actions.exportSelection}
        onDelete={actions.remove}
        onReplay={actions.replay}
        onMark={actions.toggleMark}
        onToggleLog={() => setShowLog((v) => !v)}
        onHelp={() => setShowHelp(true)}
        onCompose={() => setComposing(true)}
        onRules={() => setShowRules(true)}
        onOpened={(m) => say(m)}
        onFailed={fail}
        log={log}
      />
      {banner ? <div id="banner">{banner}</div> : null}
      {pausedCount
        ? (
          <div id="paused-notice">
            {pausedCount} flow{pausedCount === 1 ? " is" : "s are"} paused by the intercept filter.
            <button type="button" id="resume-all" onClick={actions.resumeAll}>
              Resume all (A)
            </button>
          </div>
        )
        : null}
      {notice
        ? (
          <div id="notice" onClick={() => setNotice(null)} title="Click to dismiss">
            {notice}
          </div>
        )
        : null}
      {sorted && newFlows
        ? (
          <div id="new-flows">
            {newFlows} new flow{newFlows === 1 ? "" : "s"} since the list was sorted by{" "}
            {columnById(sort.key!)?.label}.
            <button
              type="button"
              id="show-new-flows"
              onClick={() => void load(currentFilter.current)}
            >
              Sort them in
            </button>
          </div>
        )
        : null}
      <main class={focus !== null ? "with-details" : ""}>
        <div class="list-column">
          <FlowList
            rows={rows}
            missing={missing}
            missingAfter={missingAfter}
            columns={columns}
            widths={widths}
            selected={selected}
            focus={focus}
            sort={sort}
            onSort={(key) => {
              const next = nextSort(sort, key);
              setSort(next);
              save("sort", next);
              // The proxy's store answers the new order: the list loads again from its start.
              sortRef.current = next;
              void load(currentFilter.current);
            }}
            onResize={(key, w) => {
              const next = { ...widths, [key]: w };
              setWidths(next);
              save("widths", next);
            }}
            onRowClick={onRowClick}
            onNeedOlder={() => holdPages.current || void loadOlder()}
            onNeedMore={() => holdPages.current || void loadMore()}
            scrollRequest={scrollRequest}
          />
          {showLog
            ? <EventLogPane entries={log.entries} onClose={() => setShowLog(false)} />
            : null}
        </div>
        {focus !== null && detail && detail.id === focus
          ? (
            <section id="details">
              <Details
                key={detail.id}
                flow={detail}
                actions={detailActions}
                version={detailVersion}
              />
            </section>
          )
          : null}
      </main>
      {showHelp ? <Help onClose={() => setShowHelp(false)} /> : null}
      {showRules ? <Rules onClose={() => setShowRules(false)} /> : null}
      {composing
        ? (
          <Compose
            onClose={() => setComposing(false)}
            onSent={(f) => {
              setComposing(false);
              store.upsert(f);
              select(f.id);
            }}
          />
        )
        : null}
    </>
  );
}
