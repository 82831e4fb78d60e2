/** `wf runs`: the newest runs first, from the run index (see journal/summary.ts), so the cost follows `--limit`. */
import { ensureFreshIndex, listRuns, type ListFilter, type RunSummary } from "../runs/index.ts";
import { formatMs, formatTime, renderTable } from "../report/table.ts";
import { WfError } from "../util/result.ts";

export const RUN_LIST_STATUSES = ["running", "resuming", "success", "failed", "cancelled", "interrupted", "unreadable"] as const;

export interface RunsOptions extends ListFilter {
  readonly json: boolean;
  readonly reindex: boolean;
}

export async function runsCommand(stateDir: string, opts: RunsOptions, out: (text: string) => void): Promise<number> {
  if (opts.status !== undefined && !(RUN_LIST_STATUSES as readonly string[]).includes(opts.status)) {
    throw new WfError(`Invalid --status "${opts.status}": expected one of ${RUN_LIST_STATUSES.join(", ")}`, 2);
  }
  if (opts.reindex) await ensureFreshIndex(stateDir, true);
  const runs = await listRuns(stateDir, opts);
  if (opts.json) {
    out(`${JSON.stringify(runs.map(runJson), null, 2)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    const filtered = opts.workflow !== undefined || opts.status !== undefined || opts.tag !== undefined;
    out(filtered ? "No runs match the filters\n" : `No runs in "${stateDir}"\n`);
    return 0;
  }
  out(renderTable(
    ["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "TASKS"],
    runs.map((r) => [
      r.id,
      r.workflow || "-",
      r.status,
      formatTime(r.startedAt),
      r.durationMs === null ? "-" : formatMs(r.durationMs),
      r.status === "unreadable" ? "-" : `${r.done}/${r.total}`,
    ]),
  ));
  return 0;
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
    ...(r.problem === undefined ? {} : { problem: r.problem }),
  };
}
