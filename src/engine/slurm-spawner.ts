/**
 * Runs attempts as Slurm jobs (platform/slurm.ts), and routes each attempt to it or to the
 * local JobSpawner (ExecutorSpawner).
 *
 *   sbatch ──> job id (journaled by the engine through onJob) ──> watched until:
 *     its status file appears ─────────────────────> the result (tails read from the logs)
 *     it leaves the queue without one ─────────────> failed, with the state Slurm reported
 *   a timeout (counted from when it runs) or abort ─> scancel, then as above
 *
 * Watching is polling: the status files of all watched jobs every POLL_MS (a stat each), and
 * one `squeue` call for all of them every QUERY_MS.
 */
import { cancel, cancelSync, isActive, jobStates, submit } from "../platform/slurm.ts";
import { readStatusFile, readTail } from "../platform/job.ts";
import type { AttemptResult, AttemptSpec, Reattach, Spawner } from "./spawner.ts";
import { attemptResult, LogFollower } from "./spawner.ts";

const POLL_MS = 100;
const QUERY_MS = 1000;
/** A job gone from the queue gets this long for its status file to show (a shared filesystem may lag). */
const STATUS_GRACE_MS = 1500;

interface Watched {
  readonly jobId: string;
  readonly statusPath: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly timeoutMs?: number;
  readonly submittedMs: number;
  /** When Slurm was first seen running it: the timeout counts from there. */
  runningSince?: number;
  /** The last state squeue reported, undefined once Slurm no longer lists it. */
  state?: string;
  /** Set once squeue no longer reports it active. */
  goneSince?: number;
  cancelledBy?: "timeout" | "abort";
  readonly lines?: { readonly out: LogFollower; readonly err: LogFollower };
  readonly done: (result: AttemptResult) => void;
}

/** `x.status` beside `x.stdout.log` and `x.stderr.log` (execute.ts's logName and statusName). */
function logsBeside(statusPath: string): { stdout: string; stderr: string } {
  const base = statusPath.replace(/\.status$/, "");
  return { stdout: `${base}.stdout.log`, stderr: `${base}.stderr.log` };
}

export class SlurmSpawner implements Spawner {
  private readonly watched = new Map<string, Watched>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastQuery = 0;
  private querying = false;

  /**
   * `clientEnv`: the variables Slurm's clients need to find the cluster (`SLURM_CONF`), added
   * to each sbatch's environment, which is otherwise the task's (so `clean_env` holds on the node).
   */
  constructor(private readonly clientEnv: Readonly<Record<string, string>>) {}

  /** Cancels every watched job now, waiting for scancel (a second Ctrl-C, or a fatal journal error). */
  cancelAll(): void {
    cancelSync([...this.watched.keys()]);
  }

  async run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult> {
    const slurm = spec.slurm;
    if (slurm === undefined) throw new Error("Internal error: a local attempt was given to the Slurm spawner");
    const submittedMs = Date.now();
    if (abort.aborted) return this.notStarted(submittedMs, "the run was stopping");
    const submitted = await submit({
      cmd: spec.cmd, cwd: spec.cwd, env: { ...this.clientEnv, ...spec.env }, stdout: spec.stdoutPath, stderr: spec.stderrPath,
      status: spec.statusPath, jobName: slurm.jobName, args: slurm.args,
    });
    if (!submitted.ok) return this.notStarted(submittedMs, submitted.message);
    // Nothing more happens to the job until its id is journaled.
    await spec.onJob?.(submitted.jobId);
    const lines = spec.onLine === undefined ? undefined : {
      out: new LogFollower(spec.stdoutPath, (l) => spec.onLine!("stdout", l)),
      err: new LogFollower(spec.stderrPath, (l) => spec.onLine!("stderr", l)),
    };
    return this.watch(
      {
        jobId: submitted.jobId, statusPath: spec.statusPath, stdoutPath: spec.stdoutPath, stderrPath: spec.stderrPath,
        ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }), submittedMs, ...(lines === undefined ? {} : { lines }),
      },
      abort,
    );
  }

  reattach(job: Reattach, abort: AbortSignal): Promise<AttemptResult | undefined> {
    if (job.jobId === undefined) throw new Error("Internal error: a local job was given to the Slurm spawner");
    const logs = logsBeside(job.statusPath);
    return this.watch(
      { jobId: job.jobId, statusPath: job.statusPath, stdoutPath: logs.stdout, stderrPath: logs.stderr, submittedMs: job.startedMs },
      abort,
    );
  }

  private notStarted(startedMs: number, why: string): AttemptResult {
    return {
      exitCode: null, signal: null, timedOut: false, durationMs: Date.now() - startedMs,
      lastStdoutLine: "", stderrTail: "", logTruncated: false, spawnError: why,
    };
  }

  private watch(w: Omit<Watched, "done">, abort: AbortSignal): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const onAbort = () => {
        if (entry.cancelledBy !== undefined) return;
        entry.cancelledBy = "abort";
        void cancel(entry.jobId);
      };
      const entry: Watched = {
        ...w,
        done: (result) => {
          abort.removeEventListener("abort", onAbort);
          this.watched.delete(w.jobId);
          entry.lines?.out.end();
          entry.lines?.err.end();
          resolve(result);
        },
      };
      this.watched.set(w.jobId, entry);
      if (abort.aborted) onAbort();
      else abort.addEventListener("abort", onAbort, { once: true });
      this.timer ??= setInterval(() => this.tick(), POLL_MS);
    });
  }

  private tick(): void {
    if (this.watched.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    for (const w of [...this.watched.values()]) {
      w.lines?.out.poll();
      w.lines?.err.poll();
      const status = readStatusFile(w.statusPath);
      if (status !== undefined) {
        const result = attemptResult({ ...status, stdout_tail: readTail(w.stdoutPath), stderr_tail: readTail(w.stderrPath) });
        w.done(w.cancelledBy === "timeout" ? { ...result, timedOut: true } : result);
        continue;
      }
      if (w.goneSince !== undefined && now - w.goneSince >= STATUS_GRACE_MS) {
        const state = w.state ?? "unknown";
        w.done({
          exitCode: null, signal: null, timedOut: w.cancelledBy === "timeout",
          durationMs: Math.max(0, w.goneSince - (w.runningSince ?? w.submittedMs)),
          lastStdoutLine: "", stderrTail: lastLines(readTail(w.stderrPath), 10), logTruncated: false,
          slurm: { state, by: w.cancelledBy === undefined ? "scheduler" : "wf" },
        });
        continue;
      }
      if (w.timeoutMs !== undefined && w.runningSince !== undefined && w.cancelledBy === undefined && now - w.runningSince >= w.timeoutMs) {
        w.cancelledBy = "timeout";
        void cancel(w.jobId);
      }
    }
    if (!this.querying && now - this.lastQuery >= QUERY_MS) void this.query();
  }

  private async query(): Promise<void> {
    this.querying = true;
    this.lastQuery = Date.now();
    try {
      const ids = [...this.watched.keys()];
      const states = await jobStates(ids);
      if (states === undefined) return; // the controller did not answer: ask again later
      const now = Date.now();
      for (const id of ids) {
        const w = this.watched.get(id);
        if (w === undefined) continue;
        const state = states.get(id);
        if (state !== undefined) w.state = state;
        if (state === "RUNNING") w.runningSince ??= now;
        if (state !== undefined && isActive(state)) w.goneSince = undefined;
        else w.goneSince ??= now;
      }
    } finally {
      this.querying = false;
    }
  }
}

function lastLines(text: string, n: number): string {
  return text.replace(/\s+$/, "").split("\n").slice(-n).join("\n");
}

/** Sends each attempt to the spawner of its executor: Slurm when it has `slurm` settings, else the local one. */
export class ExecutorSpawner implements Spawner {
  constructor(
    private readonly local: Spawner,
    private readonly slurm: () => Spawner,
  ) {}

  run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult> {
    return spec.slurm === undefined ? this.local.run(spec, abort) : this.slurm().run(spec, abort);
  }

  reattach(job: Reattach, abort: AbortSignal): Promise<AttemptResult | undefined> {
    if (job.jobId !== undefined) return this.slurm().reattach!(job, abort);
    return this.local.reattach?.(job, abort) ?? Promise.resolve(undefined);
  }

  journaled(statusPath: string): void {
    this.local.journaled?.(statusPath);
  }
}
