/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/** @jsxImportSource preact */
/** The web UI's entry point; scripts/build_ui.ts bundles from here. */
import { render } from "preact";
import { App } from "./app.tsx";

render(<App />, document.getElementById("app")!);
