/**
 * The list's rows in the page the server sends (src/webui/list_html.ts, src/api/ui_page.ts), as
 * pure code and through the API: the live list's columns, classes and order, every value escaped,
 * and the page's stylesheet inline, allowed by its hash and nothing else.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { columnById, DEFAULT_COLUMNS } from "../../src/webui/columns.ts";
import { escapeHtml, listHtml } from "../../src/webui/list_html.ts";
import { UNSORTED } from "../../src/webui/sorting.ts";
import type { Summary } from "../../src/webui/types.ts";
import { cookieName } from "../../src/api/security.ts";
import { PORT, TOKEN, withApi } from "./helpers.ts";
import { syntheticFlow } from "./ui_helpers.ts";

const columns = DEFAULT_COLUMNS.map(columnById).filter((c) => c !== undefined);

/** A hostile flow: markup and quotes in every field the list shows. */
const NASTY_HOST = `"><script>alert(1)</script>`;
const NASTY_PATH = `/a'b"c&d<img src=x onerror=alert(2)>$&$'</script>`;

function summary(id: string, extra: Partial<Summary> = {}): Summary {
  return {
    id,
    request: {
      method: "GET",
      scheme: "https",
      host: "h.example",
      port: 443,
      path: `/${id}`,
      url: `https://h.example/${id}`,
      httpVersion: "HTTP/1.1",
    },
    response: { status: 200, contentType: "text/html", bodySize: 10 },
    timestamps: { start: 1_700_000_000_000 },
    duration: 5,
    ...extra,
  } as unknown as Summary;
}

/** The rows of listHtml's output: [data-id, class] in the page's order. */
function rowsOf(html: string): [string, string][] {
  return [...html.matchAll(/<div class="(row [^"]*)" data-id="([^"]*)">/g)].map((
    m,
  ) => [m[2], m[1]]);
}

describe("the list as HTML", () => {
  test("escapes text and attribute values", () => {
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>`),
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });

  test("every value a flow brings is escaped: no markup of its own gets in", () => {
    const f = summary("n1", { comment: `<b onclick="x">hi</b>` });
    f.request.host = NASTY_HOST;
    f.request.path = NASTY_PATH;
    f.request.url = `https://${NASTY_HOST}${NASTY_PATH}`;
    f.request.method = "<M>";
    const html = listHtml([f], 0, columns, UNSORTED);
    assert.doesNotMatch(html, /<script|<img|<b onclick|<M>/);
    assert.ok(html.includes(`<span class="cell host">${escapeHtml(NASTY_HOST)}</span>`));
    // The path cell: the text, then the comment badge with its title; the URL as the title.
    assert.ok(
      html.includes(
        `<span class="cell path" title="${escapeHtml(f.request.url)}">${escapeHtml(NASTY_PATH)}` +
          `<b class="badge comment" title="${escapeHtml(f.comment!)}">✎</b></span>`,
      ),
    );
    // Its first cell with text says when the rows are painted (the mark cell is empty).
    assert.ok(
      html.includes(`<span class="cell method" elementtiming="server-rows">&lt;M&gt;</span>`),
    );
  });

  test("the live list's columns, header and row classes; the newest row first in the page", () => {
    const flows = [
      summary("a"),
      summary("b", { response: null, error: "connection refused" } as Partial<Summary>),
      summary("c", { marked: true, intercepted: "response" } as Partial<Summary>),
    ];
    flows[2].request.httpVersion = "HTTP/2.0";
    // The first of them is row 41 of the whole list: odd.
    const html = listHtml(flows, 41, columns, UNSORTED);
    assert.deepEqual(rowsOf(html), [
      ["c", "row odd s-paused paused marked"],
      ["b", "row even s-failed failed"],
      ["a", "row odd s-2xx"],
    ]);
    const head = [...html.matchAll(/data-col="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(head, DEFAULT_COLUMNS);
    assert.match(html, /aria-sort="none"><button type="button" class="sort" title="Sort by Host/);
    const cells = (id: string) => {
      const row = html.slice(html.indexOf(`data-id="${id}"`)).split("</div>")[0];
      return [...row.matchAll(/<span class="cell (\w+)"/g)].map((m) => m[1]);
    };
    assert.deepEqual(cells("a"), DEFAULT_COLUMNS);
    const c = html.slice(html.indexOf('data-id="c"')).split("</div>")[0];
    assert.match(c, /<span class="cell mark" elementtiming="server-rows">★<\/span>/);
    assert.equal(html.match(/elementtiming/g)?.length, 1, "the newest row's only");
    assert.match(c, /<span class="cell status" title="">paused<\/span>/);
    assert.match(c, /<b class="badge version">h2\.0<\/b><b class="badge paused-badge">paused<\/b>/);
    const b = html.slice(html.indexOf('data-id="b"')).split("</div>")[0];
    assert.match(b, /<span class="cell status" title="connection refused">error<\/span>/);
  });
});

describe("the page the server sends", () => {
  test("to a logged-in browser: the newest rows as HTML, escaped, with its stylesheet by hash", async () => {
    await withApi({}, async ({ control, req }) => {
      const now = Date.now();
      for (let i = 0; i < 100; i++) control.store.add(syntheticFlow(i, now + i));
      const nasty = syntheticFlow(100, now + 100);
      nasty.request.host = NASTY_HOST;
      nasty.request.path = NASTY_PATH;
      control.store.add(nasty);
      await control.store.sync();

      const res = await req(`/?token=${TOKEN}`, { headers: { authorization: "" } });
      const html = await res.text();
      const app = /<div id="app">(.*)<\/div>\n<\/body>/s.exec(html);
      assert.ok(app, "the rows are in the root the script renders into, the page's end");
      assert.ok(html.indexOf('id="first-page"') < html.indexOf('<div id="app">'));
      const rows = rowsOf(app[1]);
      const newest = (await (await req("/api/flows?limit=60")).json()).flows as Summary[];
      // The 60 newest, newest first; the newest is row 100 of 101 (even), and so on up.
      assert.deepEqual(rows.map(([id]) => id), newest.map((f) => f.id).reverse());
      assert.match(rows[0][1], /^row even s-2xx$/);
      assert.match(rows[1][1], /^row odd /);
      assert.match(app[1], /<span id="stats">101 flows<\/span>/);
      // Escaped: as text, with "$&" and "$'" kept as they are (no replacement patterns).
      assert.ok(app[1].includes(`<span class="cell host">${escapeHtml(NASTY_HOST)}</span>`));
      assert.ok(app[1].includes(`>${escapeHtml(NASTY_PATH)}</span>`));
      assert.doesNotMatch(html, /<script>alert|<img src=x/);
      // The script is deferred: the rows are painted while it loads.
      assert.match(html, /<script src="\/app.js" defer><\/script>/);

      // The stylesheet inline, and the page's policy allows exactly it.
      const style = /<style>(.*?)<\/style>/s.exec(html);
      assert.ok(style, "the stylesheet is in the page");
      assert.doesNotMatch(html, /<link rel="stylesheet"/);
      const hash = createHash("sha256").update(style[1]).digest("base64");
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /^default-src 'self'; style-src 'self' 'sha256-[^']+';/);
      assert.ok(csp.includes(`'sha256-${hash}'`), csp);
      assert.doesNotMatch(csp, /unsafe-inline|script-src/);

      // A theme chosen with the toggle (its cookie): the page is in it; anything else is ignored.
      const login = `${cookieName(PORT)}=${TOKEN}`;
      const themed = (theme: string) =>
        req("/", { headers: { authorization: "", cookie: `${login}; mitm-theme=${theme}` } })
          .then((r) => r.text());
      assert.match(await themed("dark"), /<html lang="en" data-theme="dark">/);
      assert.match(await themed("light"), /<html lang="en" data-theme="light">/);
      assert.match(await themed("%22%3E%3Cscript%3E"), /<html lang="en">/);
      assert.match(html, /<html lang="en">/);

      // Not logged in: no rows, no flows, the stylesheet linked.
      const anonymous = await (await req("/", { headers: { authorization: "" } })).text();
      assert.match(anonymous, /<div id="app"><\/div>/);
      assert.doesNotMatch(anonymous, /data-id|<style>/);
    });
  });
});
