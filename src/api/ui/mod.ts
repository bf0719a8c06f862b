/**
 * The web UI's files, embedded as strings so that they are inside the single binary. app.js is
 * bundled from src/webui/ by scripts/build_ui.ts into bundle.gen.ts.
 */
import { APP_JS } from "./bundle.gen.ts";
import { INDEX_HTML } from "./index_html.ts";
import { STYLE_CSS } from "./style_css.ts";

export const UI_ASSETS = {
  "index.html": INDEX_HTML,
  "app.js": APP_JS,
  "style.css": STYLE_CSS,
};
