/**
 * Is a run active? For `wf run --exclusive` and `wf prune`. A run is active
 * while its wf holds its lock (whether `wf run` or `wf resume` took it), and,
 * once that wf died without releasing it (kill -9), while a task it started
 * still runs. A run that ended cleanly has no lock file, so only runs with one
 * cost a journal read.
 *
 *   no lock file ──> ended cleanly, or never started: idle (no journal read)
 *   lock of a live wf, or of one on another host ──> active: the wf
 *   lock that cannot be understood ──> lock-unreadable (maybe active)
 *   lock of a provably dead wf ──read the journal──> an interrupted attempt whose
 *       job still runs (same pid, start time and boot id: runs/jobs.ts; for a
 *       journal written before detached jobs, a pid with WF_RUN_ID=<id> in its
 *       environment) ──> active: the task
 *                otherwise ──> idle
 */
import { lstatSync } from "node:fs";
import { lstat } from "node:fs/promises";
import { hostname } from "node:os";
import type { JournalRecord } from "../journal/events.ts";
import type { RunState } from "../journal/fold.ts";
import { checkJournal } from "../journal/order.ts";
import { hasEnvironmentEntry, type ProcessTable } from "../platform/process.ts";
import { type Failure, fsCall } from "../util/failure.ts";
import { ok, type Result } from "../util/result.ts";
import { unreachable } from "../util/unreachable.ts";
import { ensureFreshIndex, readIndex } from "./index.ts";
import { findJobs } from "./jobs.ts";
import { lockHolder } from "./lock.ts";
import { foldRecords, readJournalBytes, readRun } from "./open.ts";
import { indexPath, runPaths } from "./paths.ts";

/** Why a run counts as active. */
export type Activity =
  /** A live wf holds the run's lock (or one on another host, whose liveness cannot be told). */
  | { readonly kind: "wf"; readonly runId: string; readonly pid: number; readonly host: string }
  /** The run's wf is dead, and a task it started still runs. */
  | { readonly kind: "task"; readonly runId: string; readonly task: string; readonly pid: number; readonly host: string; readonly jobId?: string }
  /** The run's lock cannot be understood: it may be active, and is never taken to be idle. */
  | { readonly kind: "lock-unreadable"; readonly runId: string; readonly path: string };

/** What the decision asks of this machine; a test passes a fake. */
export interface TaskProbe {
  /** This host's name, as lock files record it. */
  readonly host: string;
  /** The process table jobs are looked up in (default: this machine's). */
  readonly table?: ProcessTable;
  /** For a journal written before detached jobs: `pid` is alive and its environment holds `WF_RUN_ID=<runId>`, a task of that run, not a reused pid. */
  isTaskOf(pid: number, runId: string): Promise<boolean>;
}

export const localProbe: TaskProbe = {
  host: hostname(),
  isTaskOf: (pid, runId) => hasEnvironmentEntry(pid, `WF_RUN_ID=${runId}`),
};

/** Whether one run is active, and why; undefined when it is idle. Read-only. */
export async function runActivity(stateDir: string, runId: string, probe: TaskProbe = localProbe): Promise<Result<Activity | undefined, Failure>> {
  const lockPath = runPaths(stateDir, runId).lock;
  const present = await fsCall("read the lock", lockPath, () =>
    lstat(lockPath).then(
      () => true,
      (e: { code?: string }) => {
        if (e.code === "ENOENT") return false;
        throw e;
      },
    ),
  );
  if (!present.ok) return present;
  if (!present.value) return ok(undefined);
  const holder = await fsCall("read the lock", lockPath, () => lockHolder(lockPath, probe.host));
  if (!holder.ok) return holder;
  if (holder.value !== undefined) {
    const { pid, host, unreadable } = holder.value;
    return ok(unreadable ? { kind: "lock-unreadable", runId, path: lockPath } : { kind: "wf", runId, pid, host });
  }
  // Its wf is dead: the tasks it left interrupted may still run.
  const read = await readRun(stateDir, runId, "read", { keepRecords: false });
  if (read.ok && read.value.live) {
    // Taken by a resume since the lock was read: active through that wf.
    const now = await fsCall("read the lock", lockPath, () => lockHolder(lockPath, probe.host));
    if (!now.ok) return now;
    if (now.value !== undefined && !now.value.unreadable) return ok({ kind: "wf", runId, pid: now.value.pid, host: now.value.host });
  }
  const state = read.ok && !read.value.live ? read.value.state : foldIntact(await intactRecords(stateDir, runId));
  if (state === undefined) return ok(undefined);
  for (const job of findJobs(state, runPaths(stateDir, runId).dir, probe.table)) {
    if (job.kind === "wait") {
      return ok({ kind: "task", runId, task: job.task, pid: job.identity.pid, host: probe.host, ...(job.jobId === undefined ? {} : { jobId: job.jobId }) });
    }
    if (job.kind === "legacy" && (await probe.isTaskOf(job.pid, runId))) return ok({ kind: "task", runId, task: job.task, pid: job.pid, host: probe.host });
  }
  return ok(undefined);
}

/** A damaged journal's intact part, folded as a run no process owns (the tasks started before the damage); undefined without run_started. */
function foldIntact(records: readonly JournalRecord[]): RunState | undefined {
  const folded = foldRecords(records, false);
  return folded.ok ? folded.value : undefined;
}

/**
 * The intact records of a run's journal, in order, up to its first damaged
 * line or event out of order: all of them for a sound journal, none when it
 * cannot be read at all.
 */
export async function intactRecords(stateDir: string, runId: string): Promise<JournalRecord[]> {
  const bytes = await readJournalBytes(runPaths(stateDir, runId).journal);
  return bytes.ok ? checkJournal(bytes.value).records : [];
}

/**
 * The first active run of `workflow` but `except`, newest first, found through
 * the run index: only runs of that workflow with a lock file are read.
 */
export async function activeRunOf(stateDir: string, workflow: string, probe: TaskProbe = localProbe, except?: string): Promise<Result<Activity | undefined, Failure>> {
  const indexed = await fsCall("read the run index", indexPath(stateDir), () => ensureFreshIndex(stateDir));
  if (!indexed.ok) return indexed;
  if (!indexed.value) return ok(undefined);
  const entries = await fsCall("read the run index", indexPath(stateDir), () => readIndex(stateDir));
  if (!entries.ok) return entries;
  for (const entry of entries.value.reverse()) {
    // "": a run indexed while being created, before its journal named the workflow.
    if ((entry.workflow !== workflow && entry.workflow !== "") || entry.id === except) continue;
    if (!mayHaveLock(stateDir, entry.id)) continue;
    const activity = await runActivity(stateDir, entry.id, probe);
    if (!activity.ok) return activity;
    if (activity.value === undefined) continue;
    if (entry.workflow === "" && workflowOf(await intactRecords(stateDir, entry.id)) !== workflow) continue;
    return activity;
  }
  return ok(undefined);
}

/**
 * False only when the run's lock file is surely gone (it ended cleanly, or never
 * started): a synchronous lstat, so hundreds of old runs cost a millisecond or
 * two, not a round trip through the thread pool each. Any other answer leaves
 * the run to runActivity, which names a problem as a failure.
 */
function mayHaveLock(stateDir: string, runId: string): boolean {
  try {
    // No throw for a missing file: an exception per old run would cost more than the call.
    return lstatSync(runPaths(stateDir, runId).lock, { throwIfNoEntry: false }) !== undefined;
  } catch (e) {
    return (e as { code?: string } | null)?.code !== "ENOENT";
  }
}

function workflowOf(records: readonly JournalRecord[]): string | undefined {
  const started = records.find((r) => r.type === "run_started");
  return started?.type === "run_started" ? started.workflow : undefined;
}

/** The failure of `--exclusive` for an active run of `workflow`. */
export function busyFailure(workflow: string, activity: Activity): Failure {
  switch (activity.kind) {
    case "wf":
      return { kind: "workflow-busy", workflow, runId: activity.runId, pid: activity.pid, host: activity.host };
    case "task":
      return {
        kind: "workflow-busy", workflow, runId: activity.runId, task: activity.task, pid: activity.pid, host: activity.host,
        ...(activity.jobId === undefined ? {} : { jobId: activity.jobId }),
      };
    case "lock-unreadable":
      return { kind: "lock-unreadable", path: activity.path };
    default:
      return unreachable(activity);
  }
}
