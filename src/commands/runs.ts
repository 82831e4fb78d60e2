/** `wf runs`: the newest runs first, from the run index (see runs/index.ts), so the cost follows `--limit`. */
import type { Io } from "../platform/io.ts";
import { describeFailure } from "../report/failure.ts";
import { formatMs, formatTime, renderTable } from "../report/table.ts";
import { ensureFreshIndex } from "../runs/index.ts";
import { listRuns, type ListFilter, type RunSummary } from "../runs/list.ts";
import { fsProblem, type Outcome } from "../util/failure.ts";
import { err, ok } from "../util/result.ts";
import { indexPath } from "../runs/paths.ts";
import { inert, jsonText } from "../report/inert.ts";

export const RUN_LIST_STATUSES = ["running", "resuming", "success", "failed", "cancelled", "interrupted", "unreadable"] as const;

export interface RunsOptions extends ListFilter {
  readonly json: boolean;
  readonly reindex: boolean;
}

export async function runsCommand(stateDir: string, opts: RunsOptions, io: Io): Promise<Outcome> {
  const out = io.out;
  let runs: RunSummary[];
  try {
    if (opts.reindex) await ensureFreshIndex(stateDir, true);
    runs = await listRuns(stateDir, opts);
  } catch (e) {
    // The index is the one file listing reads or writes besides journals.
    const problem = fsProblem(e);
    if (problem === undefined) throw e;
    return err({ kind: "fs", action: "read the run index", path: indexPath(stateDir), problem });
  }
  if (opts.json) {
    out(`${jsonText(runs.map(runJson), 2)}\n`);
    return ok(0);
  }
  if (runs.length === 0) {
    const filtered = opts.workflow !== undefined || opts.status !== undefined || opts.tag !== undefined;
    out(filtered ? "No runs match the filters\n" : inert(`No runs in "${stateDir}"\n`));
    return ok(0);
  }
  // Workflow names come from the journals: shown inert.
  out(inert(renderTable(
    ["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "TASKS"],
    runs.map((r) => [
      r.id,
      r.workflow || "-",
      r.status,
      formatTime(r.startedAt),
      r.durationMs === null ? "-" : formatMs(r.durationMs),
      r.status === "unreadable" ? "-" : `${r.done}/${r.total}`,
    ]),
  )));
  return ok(0);
}

/** The `--json` shape of one run (documented in docs/commands.md). */
export function runJson(r: RunSummary): Record<string, unknown> {
  return {
    id: r.id,
    workflow: r.workflow,
    tags: r.tags,
    status: r.status,
    live: r.live,
    started_at: r.startedAt,
    ended_at: r.endedAt ?? null,
    duration_ms: r.durationMs,
    tasks_done: r.done,
    tasks_total: r.total,
    ...(r.problem === undefined ? {} : { problem: describeFailure(r.problem) }),
  };
}
