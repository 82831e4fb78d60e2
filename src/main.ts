/** Entry point for every runtime: `deno run -A src/main.ts`, bin/wf.js on Node, the single executable. */
import process from "node:process";
import { main } from "./cli/main.ts";
import { argv } from "./platform/runtime.ts";

process.exitCode = await main(argv());
