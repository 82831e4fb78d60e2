/**
 * Entry of the single executable (scripts/build-sea.mjs). Node's SEA runs one
 * CommonJS file, where top-level await is not allowed, so this calls main()
 * without it; src/main.ts stays the entry for Node and Deno. Started with
 * LAUNCHER_ARG it is the launcher of one execution's jobs.
 */
import process from "node:process";
import { main } from "./cli/main.ts";
import { LAUNCHER_ARG, launcherMain } from "./platform/launcher.ts";
import { argv } from "./platform/runtime.ts";

const args = argv();
if (args[0] === LAUNCHER_ARG) launcherMain(args.slice(1));
else {
  void main(args).then((code) => {
    process.exitCode = code;
  });
}
