export const INDEX_HTML = `<!doctype html><title>mitm.ts</title><script src="/app.js"></script>`;
