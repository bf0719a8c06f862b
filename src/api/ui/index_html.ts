/** The UI's page: an empty root that the bundled script (src/webui/, Preact) fills. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>mitm.ts</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body>
<div id="app"></div>
<noscript>The mitm.ts web UI needs JavaScript.</noscript>
<script src="/app.js"></script>
</body>
</html>
`;
