/** Keyboard shortcuts like mitmproxy's; ignored while typing in a field or pressing a button. */
import { useEffect, useRef } from "preact/hooks";

export interface ShortcutHandlers {
  next(): void;
  previous(): void;
  open(): void;
  close(): void;
  focusFilter(): void;
  focusIntercept(): void;
  resume(): void;
  resumeAll(): void;
  replay(): void;
  remove(): void;
  mark(): void;
  help(): void;
}

export function useShortcuts(handlers: ShortcutHandlers): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) {
        if (e.key === "Escape") t.blur();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      // Enter and Space press a focused button (a column header sorts): not a shortcut then.
      if (t?.tagName === "BUTTON" && (e.key === "Enter" || e.key === " ")) return;
      const h = ref.current;
      const keys: Record<string, () => void> = {
        j: h.next,
        ArrowDown: h.next,
        k: h.previous,
        ArrowUp: h.previous,
        Enter: h.open,
        Escape: h.close,
        "/": h.focusFilter,
        f: h.focusFilter,
        i: h.focusIntercept,
        a: h.resume,
        A: h.resumeAll,
        r: h.replay,
        d: h.remove,
        m: h.mark,
        "?": h.help,
      };
      const fn = keys[e.key];
      if (!fn) return;
      e.preventDefault();
      fn();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}
