/**
 * The content types POST /api/import accepts (the file as the raw body). None of them can be sent
 * by an HTML form, and a cross-origin fetch() with them needs a CORS preflight, which is never
 * granted: they protect the import as `application/json` protects the other changes.
 */
export const IMPORT_TYPES = /^application\/(json|x-ndjson|jsonl|har\+json|octet-stream)\s*(;|$)/i;
