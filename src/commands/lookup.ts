/** Finding the state directory and a run from what the user typed; every problem becomes a WfError. */
import process from "node:process";
import { resolveRunId, resolveStateDir } from "../runs/paths.ts";
import { type LoadedRun, loadRun } from "../runs/index.ts";
import { WfError } from "../util/result.ts";

/** The state directory from `--state-dir` (its raw value) and the environment; a usage error when there is none. */
export function stateDirFrom(flag: unknown): string {
  const dir = resolveStateDir({ flag: typeof flag === "string" ? flag : undefined, env: process.env });
  if (!dir.ok) throw new WfError(dir.error, 2);
  return dir.value;
}

/** The full id for a prefix given on the command line; unknown or ambiguous is a usage error. */
export function runIdOf(stateDir: string, prefix: string): string {
  const id = resolveRunId(stateDir, prefix);
  if (!id.ok) throw new WfError(id.error, 2);
  return id.value;
}

/** Resolves a prefix and loads the run; any problem is one sentence (exit 2 for the id, 1 for the journal). */
export async function openRun(stateDir: string, prefix: string): Promise<LoadedRun> {
  const r = await loadRun(stateDir, runIdOf(stateDir, prefix));
  if (!r.ok) throw new WfError(r.message, 1);
  return r.run;
}
