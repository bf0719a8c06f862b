/** The UI's page: a toolbar, the flow table (virtualised by app.js) and a details pane. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mitm.ts</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
  <strong class="brand">mitm.ts</strong>
  <label>Filter <input id="filter" placeholder="~d example.com &amp; !~t image" spellcheck="false" autocomplete="off"></label>
  <label>Intercept <input id="intercept" placeholder="~u /api &amp; ~m POST" spellcheck="false" autocomplete="off"></label>
  <button id="clear" type="button">Clear</button>
  <a id="har" href="/api/flows.har" download="flows.har">Download HAR</a>
  <span id="stats"></span>
</header>
<div id="banner" hidden></div>
<div id="filter-error" class="error" hidden></div>
<div id="intercept-error" class="error" hidden></div>
<main>
  <section id="list">
    <div class="row head"><span>Method</span><span>Host</span><span>Path</span><span>Status</span><span>Type</span><span>Size</span><span>Time</span></div>
    <div id="viewport" tabindex="0"><div id="spacer"><div id="rows"></div></div></div>
  </section>
  <section id="details" hidden></section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;
