/**
 * The header list every HTTP version shares (flows, filters, the API and addons use it).
 * It still lives in src/http1/headers.ts, where the codec and the old proxy core import it from;
 * when the new core replaces the old one, the class moves here and src/http1 imports it from
 * here instead. Until then this module is the version-neutral name for it.
 */
export { HeaderList, sameName, tokens, trimOws } from "../http1/headers.ts";
