/**
 * What became of the jobs a run's last execution left without a result in
 * the journal: read from each attempt's status file and the process table.
 * Resume adopts, waits for or runs again what this finds; `wf runs`,
 * `--exclusive` and `wf prune` count a run whose jobs still run as active.
 *
 *   a status file ────────────────────────────────────> adopt: the result is there
 *   none; same pid + start time + boot as journaled
 *     (or as the run's spawn log has it) ──────────────> wait: the job still runs
 *   anything else (rebooted, killed, never started) ───> gone: run it again
 *   a journal from before detached jobs (no status_file) ─> legacy: a pid, nothing more
 *
 * A Slurm job (executor "slurm" on task_started) is found by its journaled job id: its status
 * file, else `squeue` (one call for all of them) still listing it pending or running (wait),
 * else gone.
 */
import { basename, join } from "node:path";
import type { AttemptState, RunState } from "../journal/fold.ts";
import { type JobIdentity, type JobStatus, readSpawnLog, readStatusFile, type SpawnLog, type SpawnRecord, shellResult, statusBelongsTo } from "../platform/job.ts";
import { localProcesses, type ProcessTable } from "../platform/process.ts";
import { activeJobsNamedSync, isActive, jobName, jobStatesSync } from "../platform/slurm.ts";
import { unreachable } from "../util/unreachable.ts";
import { judgeJob } from "./verdict.ts";

export type JobFinding =
  /** The job ended while no wf watched it: its result is in its status file, or (`shell`) its shell's exit line in the spawn log. */
  | {
      readonly kind: "adopt";
      readonly task: string;
      readonly attempt: number;
      readonly status: JobStatus;
      readonly statusPath: string;
      readonly startedMs: number;
      /** The result is the job's shell's: its exit status only (the launcher that would have written the status file died). */
      readonly source?: "shell";
      /** A Slurm job's id. */
      readonly jobId?: string;
    }
  /** The job still runs, or has ended and its launcher (alive) has yet to write its status file. */
  | {
      readonly kind: "wait";
      readonly task: string;
      readonly attempt: number;
      readonly identity: JobIdentity;
      readonly statusPath: string;
      readonly startedMs: number;
      readonly deadline?: number;
      /** A Slurm job: its id (identity.pid is 0), and the state squeue reported (`unknown` when it did not answer). */
      readonly jobId?: string;
      readonly slurmState?: string;
    }
  /** The attempt's command never ran: nothing of it was started, or its shell said so. */
  | { readonly kind: "never-ran"; readonly task: string; readonly attempt: number; readonly why: string }
  /** The command may have run, and nothing says how it ended (or its pid cannot be trusted). */
  | { readonly kind: "unknown"; readonly task: string; readonly attempt: number; readonly why: string }
  /** A Slurm job that left no result: its id and the last state Slurm knew (if it still does); without an id, it was never submitted. */
  | { readonly kind: "gone"; readonly task: string; readonly attempt: number; readonly jobId?: string; readonly slurmState?: string }
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

/** The run's spawn log, by status file name (the last record of each), with what each job's shell said. */
function spawnRecords(runDir: string): { jobs: Map<string, SpawnRecord>; log: SpawnLog | undefined } {
  const log = readSpawnLog(runDir);
  return { jobs: new Map((log?.jobs ?? []).map((r) => [r.status, r])), log };
}

/** The launcher that started the job named `name` (any launcher of the run, for a record without `by`) is alive and has not settled. */
export function writerAlive(log: SpawnLog, name: string, table: ProcessTable): boolean {
  const by = log.jobs.findLast((r) => r.status === name)?.by;
  return log.launchers.some((l) => (by === undefined || l.pid === by) && !log.settled.has(l.pid) && isSameJob(l, table));
}

/** How long a resume waits for the launchers of a dead wf to write the status files it left them. */
const SETTLE_MS = 10_000;

/**
 * Waits until every launcher of the run that is still alive has settled:
 * its wf is gone and every result that wf did not journal is in a status
 * file. Until then, a job with no status file may have one a moment later.
 * Returns at once when no launcher is alive (the common case), and after
 * SETTLE_MS at most.
 */
export async function settleLaunchers(runDir: string, table: ProcessTable = localProcesses): Promise<void> {
  for (let waited = 0; waited < SETTLE_MS; waited += 50) {
    const log = readSpawnLog(runDir);
    if (log === undefined || log.launchers.every((l) => log.settled.has(l.pid) || !isSameJob(l, table))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The process is this job: alive, started at the same tick, on the same boot.
 * Without a start time or a boot id to compare, it is not: a pid alone may
 * have been reused by any process since.
 */
export function isSameJob(identity: JobIdentity, table: ProcessTable): boolean {
  if (identity.proc_start === null || identity.boot_id === null) return false;
  if (identity.boot_id !== table.bootId()) return false;
  if (!table.isAlive(identity.pid)) return false;
  return table.procStart(identity.pid) === identity.proc_start;
}

/** What is left of each unfinished attempt's job. `runDir` is the run's folder. */
export function findJobs(
  state: RunState,
  runDir: string,
  table: ProcessTable = localProcesses,
  slurmStates: (ids: readonly string[]) => Map<string, string> | undefined = jobStatesSync,
): JobFinding[] {
  let spawned: ReturnType<typeof spawnRecords> | undefined;
  // Each status file read once.
  const unfinished = unfinishedAttempts(state).map((u) => ({
    ...u,
    status: u.attempt.statusFile === undefined ? undefined : readStatusFile(join(runDir, u.attempt.statusFile)),
  }));
  // One squeue call for every Slurm job without a status file.
  let states: Map<string, string> | undefined | null = null;
  const slurmState = (jobId: string): string | undefined => {
    if (states === null) {
      const ids = unfinished.filter(({ attempt: a, status }) => a.jobId !== undefined && a.statusFile !== undefined && status === undefined);
      states = slurmStates(ids.map(({ attempt: a }) => a.jobId!));
    }
    return states === undefined ? "unknown" : states.get(jobId);
  };
  return unfinished.map(({ task, attempt: a, status }): JobFinding => {
    const attempt = a.attempt;
    if (a.statusFile === undefined) {
      return a.pid === undefined ? { kind: "gone", task, attempt } : { kind: "legacy", task, attempt, pid: a.pid };
    }
    const statusPath = join(runDir, a.statusFile);
    const job = a.jobId === undefined ? {} : { jobId: a.jobId };
    const adopted = (file: JobStatus | undefined): JobFinding | undefined =>
      file !== undefined && statusBelongsTo(file, { run: state.runId, node: task, attempt })
        ? { kind: "adopt", task, attempt, status: file, statusPath, startedMs: Date.parse(file.started), ...job }
        : undefined;
    const fromFile = adopted(status);
    if (fromFile !== undefined) return fromFile;
    if (a.executor === "slurm") {
      if (a.jobId === undefined) {
        // wf died before it journaled the job id (or before sbatch answered): a live job of the
        // attempt's name is its job, since the task's earlier attempts have ended.
        const live = activeJobsNamedSync(jobName(state.runId, task));
        const found = live?.length === 1 ? live[0]! : undefined;
        if (found === undefined) return { kind: "gone", task, attempt };
        return {
          kind: "wait", task, attempt, identity: { pid: 0, proc_start: null, boot_id: null }, statusPath,
          startedMs: Date.parse(a.startedAt), jobId: found, slurmState: "PENDING or RUNNING",
        };
      }
      const now = slurmState(a.jobId);
      if (now === undefined || !(now === "unknown" || isActive(now))) {
        // The job may have ended, and written its status file, between that file's read above and squeue's answer.
        return adopted(readStatusFile(statusPath)) ?? { kind: "gone", task, attempt, jobId: a.jobId, ...(now === undefined ? {} : { slurmState: now }) };
      }
      return {
        kind: "wait", task, attempt, identity: { pid: 0, proc_start: null, boot_id: null }, statusPath,
        startedMs: Date.parse(a.startedAt), jobId: a.jobId, slurmState: now,
      };
    }
    // The spawn log has the job's identity and deadline; it also covers a wf killed before it journaled the pid.
    spawned ??= spawnRecords(runDir);
    const name = basename(a.statusFile);
    const record = spawned.jobs.get(name);
    const identity: JobIdentity | undefined =
      a.pid !== undefined
        ? { pid: a.pid, proc_start: a.procStart ?? null, boot_id: a.bootId ?? null }
        : record === undefined ? undefined : { pid: record.pid, proc_start: record.proc_start, boot_id: record.boot_id };
    let log = spawned.log;
    let exit = log?.exits.get(name);
    const alive = identity !== undefined && isSameJob(identity, table);
    if (identity !== undefined && !alive && exit === undefined) {
      // Read again after the process table: a job that ended since the reads above wrote its shell's
      // exit line (and its launcher perhaps its status file) before it was gone.
      const late = adopted(readStatusFile(statusPath));
      if (late !== undefined) return late;
      spawned = spawnRecords(runDir);
      log = spawned.log;
      exit = log?.exits.get(name);
    }
    const startedMs = Date.parse(record?.started ?? a.startedAt);
    const verdict = judgeJob({
      ...(exit === undefined ? {} : { exit }), ...(identity === undefined ? {} : { identity }),
      alive, writerBusy: log !== undefined && writerAlive(log, name, table),
    });
    switch (verdict.kind) {
      case "result": {
        // A status file was read above: this is the shell's word.
        const result = verdict.source === "shell" ? shellResult(verdict.code, { statusPath, startedMs }) : verdict.status;
        const ended = new Date(startedMs + result.duration_ms).toISOString();
        const status: JobStatus = { state: "exited", started: new Date(startedMs).toISOString(), ended, ...result };
        return { kind: "adopt", task, attempt, status, statusPath, startedMs, source: "shell" };
      }
      case "running":
      case "pending":
        return {
          kind: "wait", task, attempt, identity: identity!, statusPath, startedMs,
          ...(record?.deadline === undefined ? {} : { deadline: record.deadline }),
        };
      case "never-ran":
      case "unknown":
        return { kind: verdict.kind, task, attempt, why: verdict.why };
      default:
        return unreachable(verdict);
    }
  });
}
