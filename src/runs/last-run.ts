/**
 * `wf run FILE --resume-failed[=N]`: start a new run of the workflow, or go on
 * with its last one (docs/cli.md, "Start or continue").
 *
 *   no earlier run of the workflow ─────────────────────> new run
 *   the last run cannot be read ────────────────────────> new run
 *   the last run succeeded ─────────────────────────────> new run
 *   the last run's wf is alive (it holds the lock) ────> new run (--exclusive refuses it)
 *   failed, cancelled or interrupted, resumed N times ─> new run, under --resume-failed=N
 *   failed, cancelled or interrupted ───────────────────> resume it (a job its dead wf
 *                                                         left running is waited for)
 *
 * The decision is pure; lastRunOf() gathers what it needs from the run index.
 */
import type { RunState } from "../journal/fold.ts";
import { type Failure, fsCall } from "../util/failure.ts";
import { ok, type Result } from "../util/result.ts";
import { ensureFreshIndex, linesBackwards, parseIndexLine } from "./index.ts";
import { readRun } from "./open.ts";
import { indexPath } from "./paths.ts";

/** The newest run of a workflow, as far as it could be read. */
export type LastRun =
  | { readonly id: string; readonly readable: true; readonly state: RunState; readonly live: boolean }
  | { readonly id: string; readonly readable: false; readonly failure: Failure };

export type StartOrResume =
  | { readonly action: "resume"; readonly runId: string; readonly why: string }
  | { readonly action: "new"; readonly why: string };

const DONE_AS: Record<string, string> = { failed: "it failed", cancelled: "it was cancelled", interrupted: "it was interrupted" };

/**
 * `maxResumes`: the N of `--resume-failed=N`, or undefined for no limit;
 * `describe` renders why a run cannot be read (report/failure.ts).
 */
export function startOrResume(last: LastRun | undefined, maxResumes: number | undefined, describe: (f: Failure) => string): StartOrResume {
  if (last === undefined) return { action: "new", why: "there is no earlier run of the workflow" };
  if (!last.readable) return { action: "new", why: `the last run, ${last.id}, cannot be read (${describe(last.failure)})` };
  const { state, live } = last;
  if (state.status === "success") return { action: "new", why: `the last run, ${last.id}, succeeded` };
  if (live) return { action: "new", why: `the last run, ${last.id}, is still going` };
  const done = DONE_AS[state.status] ?? "it was interrupted";
  if (maxResumes !== undefined && state.resumes >= maxResumes) {
    const times = state.resumes === 1 ? "once" : `${state.resumes} times`;
    return { action: "new", why: `the last run, ${last.id}, ${done.slice(3)} but was resumed ${times} already (--resume-failed=${maxResumes})` };
  }
  const count = maxResumes === undefined ? "" : `; resume ${state.resumes + 1} of at most ${maxResumes}`;
  return { action: "resume", runId: last.id, why: `${done}${count}` };
}

/** The newest run of `workflow` in the run index (any status), read; undefined when it has none. */
export async function lastRunOf(stateDir: string, workflow: string): Promise<Result<LastRun | undefined, Failure>> {
  const indexed = await fsCall("read the run index", indexPath(stateDir), () => ensureFreshIndex(stateDir));
  if (!indexed.ok) return indexed;
  if (!indexed.value) return ok(undefined);
  const seen = new Set<string>();
  for await (const line of linesBackwards(indexPath(stateDir))) {
    const entry = parseIndexLine(line);
    // "": a run indexed while being created, before its journal named the workflow.
    if (entry === undefined || seen.has(entry.id) || (entry.workflow !== workflow && entry.workflow !== "")) continue;
    seen.add(entry.id);
    const read = await readRun(stateDir, entry.id, "resume", { keepRecords: false });
    if (!read.ok) {
      if (entry.workflow === "") continue;
      // A run whose folder fails the ownership check is never resumed (runs/trust.ts), nor any other that cannot be read.
      return ok({ id: entry.id, readable: false, failure: read.error });
    }
    if (read.value.state.started.workflow !== workflow) continue;
    return ok({ id: entry.id, readable: true, state: read.value.state, live: read.value.live });
  }
  return ok(undefined);
}
