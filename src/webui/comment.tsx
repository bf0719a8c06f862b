/** @jsxImportSource preact */
/**
 * A flow's comment in the details pane: shown, added, edited and deleted through the marks API
 * (PATCH /api/flows/:id {"comment": ...}; "" deletes it). Ctrl+Enter saves, Escape cancels.
 */
import { useEffect, useRef, useState } from "preact/hooks";

/** The API keeps at most this many characters (src/api/marks.ts). */
const MAX_COMMENT = 10_000;

export function CommentEditor(
  props: { comment: string; onSave(text: string): Promise<boolean> },
) {
  const [draft, setDraft] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const editing = draft !== null;
  useEffect(() => {
    if (editing) input.current?.focus();
  }, [editing]);
  const save = async (text: string) => {
    setSaving(true);
    const ok = await props.onSave(text.trim());
    setSaving(false);
    if (ok) setDraft(null);
  };

  if (draft !== null) {
    return (
      <div class="comment editing">
        <textarea
          id="comment-input"
          rows={3}
          maxLength={MAX_COMMENT}
          placeholder="A note on this flow (the ~comment filter finds it)"
          value={draft}
          ref={input}
          onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void save(draft);
            else if (e.key === "Escape") {
              e.stopPropagation();
              setDraft(null);
            }
          }}
        />
        <button type="button" id="comment-save" disabled={saving} onClick={() => save(draft)}>
          Save comment
        </button>
        <button type="button" id="comment-cancel" onClick={() => setDraft(null)}>Cancel</button>
      </div>
    );
  }
  if (!props.comment) {
    return (
      <div class="comment">
        <button type="button" id="comment-add" onClick={() => setDraft("")}>Add comment</button>
      </div>
    );
  }
  return (
    <div class="comment">
      <p id="comment-text">{props.comment}</p>
      <button type="button" id="comment-edit" onClick={() => setDraft(props.comment)}>
        Edit comment
      </button>
      <button type="button" id="comment-delete" disabled={saving} onClick={() => save("")}>
        Delete comment
      </button>
    </div>
  );
}
