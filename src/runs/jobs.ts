/**
 * What became of the jobs a run's last execution left without a result in
 * the journal: read from each attempt's status file and the process table.
 * Resume adopts, waits for or runs again what this finds; `wf runs`,
 * `--exclusive` and `wf prune` count a run whose jobs still run as active.
 *
 *   status file "exited" ─────────────────────────────> adopt: the result is there
 *   status "running", same pid + start time + boot ───> wait: the job still runs
 *   anything else (rebooted, killed, never started) ───> gone: run it again
 *   a journal of wf before 0.3 (no status file) ───────> legacy: a pid, nothing more
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AttemptState, RunState } from "../journal/fold.ts";
import { type JobIdentity, type JobStatus, parseStatus } from "../platform/job.ts";
import { localProcesses, type ProcessTable } from "../platform/process.ts";

export type JobFinding =
  /** The job ended while no wf watched it: its result is in its status file. */
  | {
      readonly kind: "adopt";
      readonly task: string;
      readonly attempt: number;
      readonly status: Extract<JobStatus, { state: "exited" }>;
      readonly statusPath: string;
      readonly startedMs: number;
    }
  /** The job still runs. */
  | {
      readonly kind: "wait";
      readonly task: string;
      readonly attempt: number;
      readonly identity: JobIdentity;
      readonly statusPath: string;
      readonly startedMs: number;
      readonly deadline?: number;
    }
  /** Nothing of the job is left to adopt or wait for. */
  | { readonly kind: "gone"; readonly task: string; readonly attempt: number }
  /** Started by a wf that wrote no status files: only its pid is known. */
  | { readonly kind: "legacy"; readonly task: string; readonly attempt: number; readonly pid: number };

/** The last attempt of each normal task that started and has no result in the journal. */
export function unfinishedAttempts(state: RunState): { readonly task: string; readonly attempt: AttemptState }[] {
  const out: { task: string; attempt: AttemptState }[] = [];
  for (const task of state.tasks.values()) {
    const last = task.attempts.at(-1);
    if ((task.state === "interrupted" || task.state === "running") && last !== undefined && last.finished === undefined) {
      out.push({ task: task.id, attempt: last });
    }
  }
  return out;
}

function readStatusFile(path: string): JobStatus | undefined {
  try {
    return parseStatus(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** The process is this job: alive, started at the same tick, on the same boot. */
export function isSameJob(identity: JobIdentity, table: ProcessTable): boolean {
  const boot = table.bootId();
  if (identity.boot_id !== null && boot !== null && identity.boot_id !== boot) return false;
  if (!table.isAlive(identity.pid)) return false;
  return identity.proc_start === null || table.procStart(identity.pid) === identity.proc_start;
}

/** What is left of each unfinished attempt's job. `runDir` is the run's folder. */
export function findJobs(state: RunState, runDir: string, table: ProcessTable = localProcesses): JobFinding[] {
  return unfinishedAttempts(state).map(({ task, attempt: a }) => {
    const attempt = a.attempt;
    if (a.statusFile === undefined) {
      return a.pid === undefined ? { kind: "gone", task, attempt } : { kind: "legacy", task, attempt, pid: a.pid };
    }
    const statusPath = join(runDir, a.statusFile);
    const status = readStatusFile(statusPath);
    if (status?.state === "exited") return { kind: "adopt", task, attempt, status, statusPath, startedMs: Date.parse(status.started) };
    // The journal's identity when it has one; the status file's covers a wf killed before journaling it.
    const identity: JobIdentity | undefined =
      a.pid !== undefined
        ? { pid: a.pid, proc_start: a.procStart ?? null, boot_id: a.bootId ?? null }
        : status?.state === "running"
          ? { pid: status.pid, proc_start: status.proc_start, boot_id: status.boot_id }
          : undefined;
    if (identity === undefined || !isSameJob(identity, table)) return { kind: "gone", task, attempt };
    const startedMs = Date.parse(status?.started ?? a.startedAt);
    return {
      kind: "wait", task, attempt, identity, statusPath, startedMs,
      ...(status?.state === "running" && status.deadline !== undefined ? { deadline: status.deadline } : {}),
    };
  });
}
