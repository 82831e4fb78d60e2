/**
 * Entry of the single executable (scripts/build-sea.mjs). Node's SEA runs one
 * CommonJS file, where top-level await is not allowed, so this calls main()
 * without it; src/main.ts stays the entry for Node and Deno.
 */
import process from "node:process";
import { main } from "./cli/main.ts";
import { argv } from "./platform/runtime.ts";

void main(argv()).then((code) => {
  process.exitCode = code;
});
