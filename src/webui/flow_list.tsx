/** @jsxImportSource preact */
/**
 * The flow table, virtualised: only the rows in view (plus a margin) are in the DOM, so 100,000
 * flows cost what 50 do. Rows are positioned absolutely by their index, so stripes and positions
 * never shift while scrolling. Flows the server has not sent yet (older than the loaded pages)
 * take their place as placeholder rows, so the scroll bar covers the whole list and a page that
 * arrives fills its rows in place: above the rows in arrival order (older pages), below them when
 * sorted (later pages). Column headers sort on click, or Enter/Space on the focused header (they
 * are buttons), and resize by dragging their edge.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { badges, type Column, headerSort, rowClass } from "./columns.ts";
import type { Summary } from "./types.ts";

export const ROW_HEIGHT = 22;
export const LIST_MARGIN = 8;

export interface ListProps {
  rows: Summary[];
  /** Rows above `rows` not loaded yet (placeholders; asking for them calls onNeedOlder). */
  missing: number;
  /** Rows below `rows` not loaded yet (a sorted list's later pages; onNeedMore loads them). */
  missingAfter?: number;
  columns: Column[];
  widths: Record<string, number>;
  selected: Set<string>;
  focus: string | null;
  sort: { key: string | null; descending: boolean };
  onSort(key: string): void;
  onResize(key: string, width: number): void;
  onRowClick(id: string, e: MouseEvent): void;
  /** Placeholder rows are in view (or nearly): load the page of older flows. */
  onNeedOlder?(): void;
  /** Placeholder rows below are in view (or nearly): load the next page of the sorted list. */
  onNeedMore?(): void;
  /** Bumped by the app to follow new flows, go to the top or show the focused row. */
  scrollRequest: { to: "bottom" | "top" | "focus"; n: number };
}

export function gridTemplate(columns: Column[], widths: Record<string, number>): string {
  return columns.map((c) =>
    c.id === "path" ? `minmax(${widths[c.id] ?? c.width}px, 1fr)` : `${widths[c.id] ?? c.width}px`
  ).join(" ");
}

export function FlowList(props: ListProps) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const { rows, columns, missing } = props;
  const missingAfter = props.missingAfter ?? 0;
  const template = gridTemplate(columns, props.widths);

  useEffect(() => {
    const el = viewport.current!;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  /** The scroll request the layout effect below has carried out. */
  const scrolled = useRef(-1);
  useLayoutEffect(() => {
    scrolled.current = props.scrollRequest.n;
    const el = viewport.current!;
    if (props.scrollRequest.to === "bottom") {
      el.scrollTop = el.scrollHeight;
    } else if (props.scrollRequest.to === "top") {
      el.scrollTop = 0;
    } else if (props.focus !== null) {
      const i = rows.findIndex((f) => f.id === props.focus);
      if (i < 0) return;
      const top = (missing + i) * ROW_HEIGHT;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) {
        el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
      }
    }
    setScrollTop(el.scrollTop);
  }, [props.scrollRequest.n]);

  const count = missing + rows.length + missingAfter;
  // A jump to the bottom or top that this render's layout effect is about to make: draw the rows
  // that will be in view there (the first rows of a load at once, not placeholders at the old
  // place and a second render).
  const jump = scrolled.current === props.scrollRequest.n ? "focus" : props.scrollRequest.to;
  const top = jump === "bottom"
    ? Math.max(0, count * ROW_HEIGHT - height)
    : jump === "top"
    ? 0
    : scrollTop;
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - LIST_MARGIN);
  const last = Math.min(count, first + Math.ceil(height / ROW_HEIGHT) + 2 * LIST_MARGIN);
  // Placeholders in view: ask for older flows (again after each page, until they are covered).
  // Where the view is now, not at this render: a jump to the bottom may be on its way.
  useEffect(() => {
    const el = viewport.current;
    if (missing === 0 || !el) return;
    if (Math.floor(el.scrollTop / ROW_HEIGHT) - LIST_MARGIN < missing + LIST_MARGIN) {
      props.onNeedOlder?.();
    }
  }, [missing, first]);
  useEffect(() => {
    const el = viewport.current;
    if (missingAfter === 0 || !el) return;
    const bottom = Math.ceil((el.scrollTop + el.clientHeight) / ROW_HEIGHT) + LIST_MARGIN;
    if (bottom > missing + rows.length - LIST_MARGIN) props.onNeedMore?.();
  }, [missingAfter, first, rows.length]);
  const visible = [];
  for (let i = first; i < last; i++) {
    if (i < missing || i >= missing + rows.length) {
      visible.push(
        <div
          key={`missing-${i}`}
          class={`row placeholder ${i % 2 ? "odd" : "even"}`}
          style={{ top: `${i * ROW_HEIGHT}px` }}
        >
          <span class="cell muted">loading…</span>
        </div>,
      );
      continue;
    }
    const f = rows[i - missing];
    const cls = rowClass(f, i, props.selected.has(f.id), f.id === props.focus);
    visible.push(
      <div
        key={f.id}
        class={cls}
        data-id={f.id}
        style={{ top: `${i * ROW_HEIGHT}px`, gridTemplateColumns: template }}
        onClick={(e) => props.onRowClick(f.id, e)}
      >
        {columns.map((c) => (
          <span class={`cell ${c.id}`} title={c.title?.(f)}>
            {c.text(f)}
            {c.id === "path" ? <Badges f={f} /> : null}
          </span>
        ))}
      </div>,
    );
  }

  return (
    <section id="list">
      <div class="row head" style={{ gridTemplateColumns: template }}>
        {columns.map((c) => (
          <HeaderCell
            column={c}
            sort={props.sort}
            onSort={props.onSort}
            onResize={props.onResize}
            width={props.widths[c.id] ?? c.width}
          />
        ))}
      </div>
      <div
        id="viewport"
        tabIndex={0}
        ref={viewport}
        onScroll={(e) => {
          setScrollTop((e.currentTarget as HTMLDivElement).scrollTop);
        }}
      >
        <div id="spacer" style={{ height: `${count * ROW_HEIGHT}px` }}>
          {visible}
        </div>
      </div>
    </section>
  );
}

function Badges({ f }: { f: Summary }) {
  return <>{badges(f).map((b) => <b key={b.cls} class={b.cls} title={b.title}>{b.text}</b>)}</>;
}

function HeaderCell(props: {
  column: Column;
  width: number;
  sort: { key: string | null; descending: boolean };
  onSort(key: string): void;
  onResize(key: string, width: number): void;
}) {
  const { column, sort } = props;
  const startDrag = (e: MouseEvent) => {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX;
    const move = (m: MouseEvent) =>
      props.onResize(column.id, Math.max(24, props.width + m.clientX - x0));
    const up = () => {
      removeEventListener("mousemove", move);
      removeEventListener("mouseup", up);
    };
    addEventListener("mousemove", move);
    addEventListener("mouseup", up);
  };
  const resizer = (
    <i
      class="resizer"
      onMouseDown={startDrag}
      onClick={(e) => e.stopPropagation()}
    />
  );
  if (column.sort === undefined) {
    return (
      <span class={`cell ${column.id}`} data-col={column.id} role="columnheader">
        {column.label}
        {resizer}
      </span>
    );
  }
  const { arrow, title, ariaSort } = headerSort(column, sort);
  return (
    <span
      class={`cell ${column.id} sortable`}
      data-col={column.id}
      role="columnheader"
      aria-sort={ariaSort}
    >
      <button type="button" class="sort" onClick={() => props.onSort(column.id)} title={title}>
        {column.label}
        {arrow}
      </button>
      {resizer}
    </span>
  );
}
