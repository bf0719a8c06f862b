/**
 * GET / : the web UI's page. Opened with ?token=, it sets the login cookie and is answered with the
 * page itself (no redirect round trip; the script takes the token out of the address bar). To a
 * logged-in browser (the token or the cookie) the page also carries the newest flows, enough to
 * fill a window, as JSON in a data block: the list shows them as the script starts, without
 * waiting for the event stream, whose hello then replaces them (a flow that changed in between is
 * right again within that round trip). A page with flows in it is not kept by any cache.
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { Control } from "./control.ts";
import { flowPage } from "./flow_page.ts";
import { cookieName, sameSecret, type SecurityConfig } from "./security.ts";
import { UI_ASSETS } from "./ui/mod.ts";

/** Rows in the page: a window up to about 1,100 px tall, and the list's margin. */
export const INLINE_FLOWS = 60;

/** Where the data block goes: before the script, which reads it. */
const SCRIPT_TAG = '<script src="/app.js"></script>';

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
  const block = `<script type="application/json" id="first-page">${json}</script>\n`;
  return c.html(html.replace(SCRIPT_TAG, block + SCRIPT_TAG));
}
