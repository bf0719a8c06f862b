/**
 * GET / : the web UI's page. Opened with ?token=, it sets the login cookie and is answered with the
 * page itself (no redirect round trip; the script takes the token out of the address bar). To a
 * logged-in browser (the token or the cookie) the page also carries the newest flows, enough to
 * fill a window, twice: as the list's rows in HTML (src/webui/list_html.ts), which the browser
 * paints before the script has loaded, and as JSON in a data block, from which the script's first
 * render shows the same rows, without waiting for the event stream, whose hello then replaces them
 * (a flow that changed in between is right again within that round trip). Its stylesheet is in it
 * too, allowed by its hash (the page's Content-Security-Policy allows that one stylesheet, and no
 * other inline style or script): the first paint does not wait for a request of its own. A page
 * with flows in it is not kept by any cache.
 */
import type { Context } from "hono";
import { createHash } from "node:crypto";
import { getCookie, setCookie } from "hono/cookie";
import type { Control } from "./control.ts";
import { flowPage } from "./flow_page.ts";
import { cookieName, DEFAULT_CSP, sameSecret, type SecurityConfig } from "./security.ts";
import { UI_ASSETS } from "./ui/mod.ts";
import { columnById, DEFAULT_COLUMNS } from "../webui/columns.ts";
import { listHtml, shellHtml, THEME_COOKIE } from "../webui/list_html.ts";
import { UNSORTED } from "../webui/sorting.ts";

/** Rows in the page: a window up to about 1,100 px tall, and the list's margin. */
export const INLINE_FLOWS = 60;

/**
 * Where the rows go: the root the script renders into, the last thing in the page. The data block
 * goes before it, so that the list is laid out once, with the page parsed whole (a block after it
 * could be parsed after the first layout and lay the list out again).
 */
const ROOT = '<div id="app"></div>';
const STYLESHEET = '<link rel="stylesheet" href="/style.css">';
const HTML = '<html lang="en">';
const STYLE_HASH = createHash("sha256").update(UI_ASSETS["style.css"]).digest("base64");
/** The default policy, and the page's own stylesheet allowed inline (CSP3 hash source). */
const PAGE_CSP = DEFAULT_CSP.replace(
  "default-src 'self';",
  `default-src 'self'; style-src 'self' 'sha256-${STYLE_HASH}';`,
);

export async function uiPage(c: Context, control: Control, security: SecurityConfig) {
  const token = c.req.query("token");
  let loggedIn = false;
  if (token !== undefined) {
    if (!sameSecret(token, security.token)) {
      return c.text("Wrong token: open the address mitm printed at startup.", 401);
    }
    setCookie(c, cookieName(security.port), token, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
    });
    loggedIn = true;
  } else {
    const cookie = getCookie(c, cookieName(security.port));
    loggedIn = cookie !== undefined && sameSecret(cookie, security.token);
  }
  const html = UI_ASSETS["index.html"];
  if (!loggedIn) return c.html(html);
  c.header("Cache-Control", "no-store");
  const page = await flowPage(control, { filter: null, limit: INLINE_FLOWS });
  // "<" escaped: no "</script>" (or "<!--") inside a flow can end the block.
  const json = JSON.stringify(page).replaceAll("<", "\\u003c");
  const block = `<script type="application/json" id="first-page">${json}</script>`;
  c.header("Content-Security-Policy", PAGE_CSP);
  // Functions, not strings: "$&" or "$'" in a flow is not a replacement pattern.
  // A theme chosen with the toggle: the page is painted in it from the start.
  const theme = getCookie(c, THEME_COOKIE);
  const root = theme === "dark" || theme === "light"
    ? `<html lang="en" data-theme="${theme}">`
    : HTML;
  return c.html(
    html.replace(HTML, root)
      .replace(STYLESHEET, () => `<style>${UI_ASSETS["style.css"]}</style>`)
      .replace(ROOT, () => `${block}\n<div id="app">${firstPaint(page)}</div>`),
  );
}

/**
 * The list as the script first shows it, before the script: the default columns in arrival order
 * (the newest last). A browser that kept another sort or other columns gets them when the script
 * renders. Times are in the proxy's time zone until then.
 */
function firstPaint(page: Awaited<ReturnType<typeof flowPage>>): string {
  const columns = DEFAULT_COLUMNS.map(columnById).filter((c) => c !== undefined);
  // Placeholder rows for the older flows come first: the rows' indexes (and stripes) follow.
  const firstIndex = Math.max(0, page.count - page.flows.length);
  const list = listHtml(page.flows, firstIndex, columns, UNSORTED);
  const paused = page.paused ? ` · ${page.paused} paused` : "";
  return shellHtml(`${page.count} flows${paused}`, list);
}
