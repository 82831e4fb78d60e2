/**
 * The Slurm executor: each attempt is a batch job (platform/slurm.ts) whose
 * script runs the command and writes the attempt's status file on the shared
 * filesystem. Nothing reports on a job: wf looks at it on every poll.
 *
 *   sbatch ──> job id (journaled by the engine through onJob) ──> started, watched by wf:
 *     its status file, naming its run, node and attempt ──> result (tails read from the logs)
 *     the queue says RUNNING ──────────────────────────────> running (the timeout counts from here)
 *     queued, or not asked yet ────────────────────────────> pending
 *     gone from the queue without a status file ───────────> vanished, in the state Slurm last gave
 *
 * One `squeue` call asks for every job of the execution, at most every QUERY_MS.
 */
import { readStatusFile, readTail, statusBelongsTo, type StatusOwner } from "../../platform/job.ts";
import { cancel, cancelSync, isActive, jobStates, submit } from "../../platform/slurm.ts";
import type { AttemptEvent, Observation } from "../../runs/attempt.ts";
import type { AttemptSpec, Reattach } from "../spawner.ts";
import type { Executor } from "./executor.ts";

export interface SlurmJob {
  readonly statusPath: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly owner?: StatusOwner;
  /** Once sbatch accepted it. */
  jobId?: string;
  /** The state squeue last gave; undefined until it first answered for this job. */
  state?: string;
  /** wf asked for it to end (scancel, or no submission if it was not submitted yet). */
  ending: boolean;
}

const QUERY_MS = 1000;
/** A job gone from the queue gets this long for its status file to show (a shared filesystem may lag). */
const STATUS_GRACE_MS = 1500;

export class SlurmExecutor implements Executor<SlurmJob> {
  /** Jobs sbatch accepted and wf still watches, by id. */
  private readonly jobs = new Map<string, SlurmJob>();
  private lastQuery = 0;
  private querying = false;

  /**
   * `clientEnv`: the variables Slurm's clients need to find the cluster (`SLURM_CONF`), added
   * to each sbatch's environment, which is otherwise the task's (so `clean_env` holds on the node).
   */
  constructor(private readonly clientEnv: Readonly<Record<string, string>>) {}

  rules() {
    // Time in the queue does not count against the timeout.
    return { deadlineFrom: "running" as const, graceMs: STATUS_GRACE_MS, backstopMs: 0 };
  }

  start(spec: AttemptSpec, report: (event: AttemptEvent) => void): SlurmJob {
    const slurm = spec.slurm;
    if (slurm === undefined) throw new Error("Internal error: a local attempt was given to the Slurm executor");
    const job: SlurmJob = { statusPath: spec.statusPath, stdoutPath: spec.stdoutPath, stderrPath: spec.stderrPath, owner: spec.owner, ending: false };
    void (async () => {
      const submittedMs = Date.now();
      // A stop asked for as the attempt began: nothing is submitted.
      await Promise.resolve();
      if (job.ending) return report({ type: "not-started", why: "the run was stopping" });
      const submitted = await submit({
        cmd: spec.cmd, cwd: spec.cwd, env: { ...this.clientEnv, ...spec.env }, stdout: spec.stdoutPath, stderr: spec.stderrPath,
        status: spec.statusPath, jobName: slurm.jobName, args: slurm.args, owner: spec.owner,
      });
      if (!submitted.ok) return report({ type: "not-started", why: submitted.message });
      job.jobId = submitted.jobId;
      this.jobs.set(submitted.jobId, job);
      // Nothing more happens to the job until its id is journaled; a journal that failed stops
      // the run, which cancels every job it knows.
      await Promise.resolve(spec.onJob?.(submitted.jobId)).catch(() => {});
      report({ type: "started", now: Date.now(), startedMs: submittedMs, by: "wf" });
    })();
    return job;
  }

  adopt(job: Reattach): SlurmJob {
    if (job.jobId === undefined) throw new Error("Internal error: a local job was given to the Slurm executor");
    const base = job.statusPath.replace(/\.status$/, "");
    const adopted: SlurmJob = {
      statusPath: job.statusPath, stdoutPath: `${base}.stdout.log`, stderrPath: `${base}.stderr.log`,
      ...(job.owner === undefined ? {} : { owner: job.owner }), jobId: job.jobId, ending: false,
    };
    this.jobs.set(job.jobId, adopted);
    return adopted;
  }

  observe(job: SlurmJob): Observation | undefined {
    if (job.jobId === undefined) return undefined;
    this.askQueue();
    const status = readStatusFile(job.statusPath);
    if (status !== undefined && (job.owner === undefined || statusBelongsTo(status, job.owner))) {
      return { kind: "result", result: { ...status, stdout_tail: readTail(job.stdoutPath), stderr_tail: readTail(job.stderrPath) } };
    }
    if (job.state === undefined) return { kind: "pending" };
    if (job.state === "RUNNING") return { kind: "running" };
    if (isActive(job.state)) return { kind: "pending" };
    return { kind: "vanished", state: job.state };
  }

  /** One `squeue` for every watched job, unless one is on its way or the last was less than QUERY_MS ago. */
  private askQueue(): void {
    const now = Date.now();
    if (this.querying || now - this.lastQuery < QUERY_MS) return;
    this.querying = true;
    this.lastQuery = now;
    const ids = [...this.jobs.keys()];
    void jobStates(ids).then((states) => {
      this.querying = false;
      if (states === undefined) return; // the controller did not answer: ask again later
      for (const id of ids) {
        const job = this.jobs.get(id);
        if (job === undefined) continue;
        const state = states.get(id);
        // Gone from the queue: the state it ended in, if squeue said; else Slurm forgot it.
        if (state !== undefined) job.state = state;
        else if (job.state === undefined || isActive(job.state)) job.state = "unknown";
      }
    });
  }

  end(job: SlurmJob): void {
    if (job.ending) return;
    job.ending = true;
    if (job.jobId !== undefined) void cancel(job.jobId);
  }

  giveUp(): void {
    // Nothing reports on a Slurm job: wf watches it from the start.
  }

  journaled(): void {
    // The status file stays; nothing holds it.
  }

  forget(job: SlurmJob): void {
    if (job.jobId !== undefined) this.jobs.delete(job.jobId);
  }

  killAll(): void {
    cancelSync([...this.jobs.keys()]);
  }

  close(): void {
    // No process of wf's own to end.
  }
}
