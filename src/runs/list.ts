/** `wf runs`: summaries of the newest runs, read through the run index (index.ts) and the one read path (open.ts). */
import type { RunState } from "../journal/fold.ts";
import type { Failure } from "../util/failure.ts";
import { ensureFreshIndex, linesBackwards, parseIndexLine, type RunIndexEntry } from "./index.ts";
import { findJobs } from "./jobs.ts";
import { indexPath, runPaths } from "./paths.ts";
import { type OpenedRun, readRun } from "./open.ts";

/** What `wf runs` shows of one run. */
export interface RunSummary {
  readonly id: string;
  readonly workflow: string;
  readonly tags: readonly string[];
  /** The folded status, or `unreadable` when the journal is corrupt or has no run_started line. */
  readonly status: RunState["status"] | "unreadable";
  /** A live process holds the run's lock, or its wf died and a job it started still runs. */
  readonly live: boolean;
  readonly startedAt: string;
  readonly endedAt?: string;
  /** From the start to the final status, or to the last line (now, for a live run). */
  readonly durationMs: number | null;
  /** Tasks that succeeded or were skipped, and all normal tasks. */
  readonly done: number;
  readonly total: number;
  /** Why the journal could not be folded, for `unreadable`. */
  readonly problem?: Failure;
}

/** Duration of a run as shown: start to final status, or to now while it is live, or to its last line. */
export function runDurationMs(state: RunState, live: boolean, now: number = Date.now()): number {
  const start = Date.parse(state.startedAt);
  const end = state.endedAt !== undefined ? Date.parse(state.endedAt) : live ? now : Date.parse(state.lastRecordAt);
  return Math.max(0, end - start);
}

/**
 * A run's summary. `jobsAlive`: its wf is dead but a job it started still
 * runs, so the run is active: shown as running, live.
 */
export function summarize(run: OpenedRun, jobsAlive = false): RunSummary {
  const s = run.state;
  let done = 0;
  for (const t of s.tasks.values()) if (t.state === "succeeded" || t.state === "skipped") done++;
  return {
    id: run.id,
    workflow: s.started.workflow,
    tags: s.started.tags,
    status: jobsAlive ? "running" : s.status,
    live: run.live || jobsAlive,
    startedAt: s.startedAt,
    ...(s.endedAt === undefined ? {} : { endedAt: s.endedAt }),
    durationMs: runDurationMs(s, run.live || jobsAlive),
    done,
    total: s.tasks.size,
  };
}

function unreadable(entry: RunIndexEntry, problem: Failure): RunSummary {
  return {
    id: entry.id, workflow: entry.workflow, tags: entry.tags, status: "unreadable", live: false,
    startedAt: entry.started, durationMs: null, done: 0, total: 0, problem,
  };
}

export interface ListFilter {
  readonly limit: number;
  readonly workflow?: string;
  readonly status?: string;
  readonly tag?: string;
}

/**
 * The newest runs that pass the filter, newest first. Reads the index from its
 * end and opens only the journals of runs that pass the index's filters
 * (workflow, tag): with no filter, `limit` journals.
 */
export async function listRuns(stateDir: string, filter: ListFilter): Promise<RunSummary[]> {
  if (!(await ensureFreshIndex(stateDir))) return [];
  const out: RunSummary[] = [];
  const seen = new Set<string>();
  for await (const line of linesBackwards(indexPath(stateDir))) {
    if (out.length >= filter.limit) break;
    const entry = parseIndexLine(line);
    if (entry === undefined || seen.has(entry.id)) continue;
    seen.add(entry.id);
    if (filter.workflow !== undefined && entry.workflow !== filter.workflow && entry.workflow !== "") continue;
    if (filter.tag !== undefined && !entry.tags.includes(filter.tag) && entry.workflow !== "") continue;
    const loaded = await readRun(stateDir, entry.id, "read");
    if (!loaded.ok && loaded.error.kind === "run-unusable" && loaded.error.problem.kind === "no-journal") continue; // pruned, or removed by hand
    const jobsAlive = loaded.ok && !loaded.value.live && loaded.value.state.status === "interrupted" &&
      findJobs(loaded.value.state, runPaths(stateDir, entry.id).dir).some((j) => j.kind === "wait");
    const summary = loaded.ok ? summarize(loaded.value, jobsAlive) : unreadable(entry, loaded.error);
    // The journal is the truth: an entry written before run_started may lack the workflow.
    if (filter.workflow !== undefined && summary.workflow !== filter.workflow) continue;
    if (filter.tag !== undefined && !summary.tags.includes(filter.tag)) continue;
    if (filter.status !== undefined && summary.status !== filter.status) continue;
    out.push(summary);
  }
  return out;
}

