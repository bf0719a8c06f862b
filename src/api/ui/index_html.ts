/**
 * The UI's page: a root that the bundled script (src/webui/, Preact) fills; to a logged-in browser
 * the server sends it with the list's newest rows already in it (src/api/ui_page.ts). The script
 * is deferred: it loads while the page is parsed and painted, and runs once it is parsed.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>mitm.ts</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<noscript>The mitm.ts web UI needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
