#!/usr/bin/env -S deno run -A
/** Command entry: `deno run -A cli.ts`, `bun cli.ts`, or the compiled `mitm` binary. */
import process from "node:process";
import { main } from "./src/cli/main.ts";

process.exit(await main(process.argv.slice(2)));
