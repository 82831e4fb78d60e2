/**
 * What became of one job, from what it left behind: the single rule that
 * `wf` applies when its launcher is gone, when it re-attaches to a job of an
 * earlier execution, and when a resume plans. Pure: the caller gathers the
 * evidence (status file, spawn log, process table).
 *
 *   a status file naming this run, node and attempt ──> result (the launcher's: exact)
 *   the job's shell said it never ran the command ───> never ran: start it (again)
 *   the job's shell wrote the command's exit status ─> result (the shell's: 128+N read as signal N)
 *   no spawn record and no journaled pid ─────────────> never ran: nothing could have started it
 *   a pid without start time or boot id ──────────────> unknown: never waited on, never killed
 *   the same pid, start time and boot id alive ───────> running: wait
 *   gone, its launcher alive and still writing ───────> pending: wait for the status file
 *   gone, nothing written anywhere ───────────────────> unknown: it may have run
 */
import type { ExitRecord, JobIdentity, JobStatus } from "../platform/job.ts";

export interface JobEvidence {
  /** Its status file, when there is one that belongs to the attempt. */
  readonly status?: JobStatus;
  /** What its shell appended to the spawn log when it ended. */
  readonly exit?: ExitRecord;
  /** Who it is, from the journal or the spawn log; undefined when neither recorded a start. */
  readonly identity?: JobIdentity;
  /** The process with that identity is alive (asked only when the identity can be trusted). */
  readonly alive: boolean;
  /** The launcher that owes its status file is alive and has not settled: the file may still come. */
  readonly writerBusy: boolean;
}

export type JobVerdict =
  | { readonly kind: "result"; readonly source: "launcher"; readonly status: JobStatus }
  | { readonly kind: "result"; readonly source: "shell"; readonly code: number }
  | { readonly kind: "never-ran"; readonly why: string }
  | { readonly kind: "running"; readonly identity: JobIdentity }
  | { readonly kind: "pending" }
  | { readonly kind: "unknown"; readonly why: string };

/** A pid is trusted only with its start time and the boot id: a pid alone may have been reused. */
export function trusted(identity: JobIdentity): boolean {
  return identity.proc_start !== null && identity.boot_id !== null;
}

export function judgeJob(e: JobEvidence): JobVerdict {
  if (e.status !== undefined) return { kind: "result", source: "launcher", status: e.status };
  if (e.exit !== undefined) {
    if ("not_run" in e.exit) return { kind: "never-ran", why: "its launcher ended before the command could start" };
    return { kind: "result", source: "shell", code: e.exit.code };
  }
  if (e.identity === undefined) return { kind: "never-ran", why: "no process of it was ever recorded" };
  if (!trusted(e.identity)) {
    return { kind: "unknown", why: `pid ${e.identity.pid} was recorded without its start time and boot id, so it cannot be told from a process that reused the pid` };
  }
  if (e.alive) return { kind: "running", identity: e.identity };
  if (e.writerBusy) return { kind: "pending" };
  return { kind: "unknown", why: `its job (pid ${e.identity.pid}) ended and no status was written by its launcher or its shell` };
}
