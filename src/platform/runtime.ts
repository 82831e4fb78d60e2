/**
 * The only place that knows Node from Deno (and from the single executable).
 * Both run this source through their `node:` modules; what differs is named here.
 */
import process from "node:process";
import { fileURLToPath } from "node:url";

declare const Deno: { version: { deno: string } } | undefined;

/** True when running under Deno. */
export const isDeno = typeof Deno !== "undefined";

/** True inside a Node single executable application. */
export const isSea: boolean = (() => {
  if (isDeno) return false;
  try {
    // node:sea exists from Node 20; isSea() tells whether we are the packaged binary.
    const sea = (process as unknown as { getBuiltinModule?: (id: string) => { isSea?: () => boolean } | undefined })
      .getBuiltinModule?.("node:sea");
    return sea?.isSea?.() ?? false;
  } catch {
    return false;
  }
})();

/** The runtime's name and version as journaled and shown by `wf --version`, e.g. `node 20.20.2`. */
export function runtimeName(): string {
  if (isDeno && Deno) return `deno ${Deno.version.deno}`;
  return `node ${process.versions.node}${isSea ? ", single executable" : ""}`;
}

/** Command-line arguments after the program and script. */
export function argv(): string[] {
  return process.argv.slice(2);
}

/**
 * How to start this same program again with other arguments: the runtime and
 * what comes before the arguments. The entry is found beside this module (not
 * from process.argv, which under a test runner names the test file).
 */
export function selfCommand(): { readonly file: string; readonly args: readonly string[] } {
  if (isSea) return { file: process.execPath, args: [] };
  const here = import.meta.url;
  const main = fileURLToPath(new URL(`../main${here.slice(here.lastIndexOf("."))}`, here));
  if (isDeno) return { file: process.execPath, args: ["run", "-A", main] };
  return { file: process.execPath, args: [main] };
}
