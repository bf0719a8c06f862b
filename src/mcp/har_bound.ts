/**
 * export_har's size bound: a HAR over the bound loses its largest bodies first (each replaced by
 * a comment saying so, HAR 1.2 allows `comment` there), until it fits.
 */

interface BodySlot {
  holder: Record<string, unknown>;
  /** Characters the text takes in the JSON. */
  size: number;
}

const utf8 = new TextEncoder();

/** The HAR as JSON of at most `maxBytes` UTF-8 bytes; null if leaving out bodies is not enough. */
export function boundedHar(har: unknown, maxBytes: number): string | null {
  let text = JSON.stringify(har);
  if (utf8.encode(text).length <= maxBytes) return text;
  const slots = bodySlots(har).sort((a, b) => b.size - a.size);
  let estimate = utf8.encode(text).length;
  for (const slot of slots) {
    const size = slot.holder.size ?? slot.size;
    delete slot.holder.text;
    delete slot.holder.encoding;
    slot.holder.comment = `body of ${size} bytes left out to fit max_bytes; get_flow shows it`;
    estimate -= slot.size;
    if (estimate <= maxBytes) {
      text = JSON.stringify(har);
      estimate = utf8.encode(text).length;
      if (estimate <= maxBytes) return text;
    }
  }
  text = JSON.stringify(har);
  return utf8.encode(text).length <= maxBytes ? text : null;
}

/** Every request postData and response content that carries a text. */
function bodySlots(har: unknown): BodySlot[] {
  const entries = (har as { log?: { entries?: unknown[] } })?.log?.entries;
  if (!Array.isArray(entries)) return [];
  const slots: BodySlot[] = [];
  for (const entry of entries) {
    const e = entry as { request?: { postData?: unknown }; response?: { content?: unknown } };
    for (const holder of [e.request?.postData, e.response?.content]) {
      if (typeof holder === "object" && holder !== null) {
        const text = (holder as { text?: unknown }).text;
        if (typeof text === "string" && text.length > 0) {
          slots.push({
            holder: holder as Record<string, unknown>,
            size: utf8.encode(JSON.stringify(text)).length,
          });
        }
      }
    }
  }
  return slots;
}
