/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/** @jsxImportSource preact */
/** The web UI's entry point; scripts/build_ui.ts bundles from here. */
import { render } from "preact";
import { App } from "./app.tsx";
import { firstPageSize, savedSort, streamQuery } from "./first_load.ts";
import { openEarly } from "./live.ts";

// Opened as /?token=... (the server set the cookie and sent the page): take the token out of the
// address bar and the history before anything else.
if (new URLSearchParams(location.search).has("token")) {
  history.replaceState(history.state, "", location.pathname + location.hash);
}

// The first page is asked for now, so that the proxy reads it while the UI renders; the first
// load (the same query) takes the stream over.
openEarly(streamQuery(savedSort(), "", firstPageSize()));
render(<App />, document.getElementById("app")!);
