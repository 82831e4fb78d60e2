/**
 * The only place that knows Node from Deno (and from the single executable).
 * Both run this source through their `node:` modules; what differs is named here.
 */
import process from "node:process";

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
