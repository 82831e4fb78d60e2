/**
 * Entry point for every runtime: `deno run -A src/main.ts`, bin/wf.js on Node,
 * the single executable (through sea-main.ts). Started with LAUNCHER_ARG it is
 * the launcher of one execution's jobs (platform/launcher.ts), which loads
 * none of the CLI.
 */
import process from "node:process";
import { LAUNCHER_ARG, launcherMain } from "./platform/launcher.ts";
import { argv } from "./platform/runtime.ts";

const args = argv();
if (args[0] === LAUNCHER_ARG) launcherMain(args.slice(1));
else process.exitCode = await (await import("./cli/main.ts")).main(args);
