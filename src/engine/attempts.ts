/**
 * Runs attempts on their executors (executors/): the one place where an
 * attempt's state machine (runs/attempt.ts) meets processes and time. Each
 * attempt feeds the machine what its executor reports, what wf sees when it
 * looks (every POLL_MS, for a job wf watches), ticks and the stop; it carries
 * out the machine's actions on the executor, and turns its outcome into the
 * result the engine journals.
 *
 *   engine ──run / reattach──> Attempt ──start, end, give-up──> executor
 *                                 ^  └─ step(phase, event) ─┐
 *                                 └── reported, seen, tick, abort
 */
import { readTail, shellResult } from "../platform/job.ts";
import { type AttemptAction, type AttemptEvent, type AttemptOutcome, type AttemptPhase, type AttemptRules, adopted, begin, step } from "../runs/attempt.ts";
import { unreachable } from "../util/unreachable.ts";
import type { Executor } from "./executors/executor.ts";
import type { AttemptResult, AttemptSpec, Reattach, Spawner } from "./spawner.ts";
import { attemptResult, lastLines, LogFollower } from "./spawner.ts";

/** How often the jobs wf watches are looked at, and the logs of jobs whose output is printed read. */
const POLL_MS = 100;
const STDERR_TAIL_LINES = 10;

class Attempt<J> {
  private phase: AttemptPhase;
  private job: J | undefined;
  private readonly queue: AttemptEvent[] = [];
  private busy = false;
  private readonly requestedMs = Date.now();

  constructor(
    private readonly executor: Executor<J>,
    private readonly rules: AttemptRules,
    private readonly statusPath: string,
    /** What a fresh start runs; a job of an earlier execution has none, and is never started again. */
    private readonly spec: AttemptSpec | undefined,
    private readonly followers: readonly LogFollower[],
    private readonly finished: (attempt: Attempt<J>, result: AttemptResult) => void,
    phase: AttemptPhase,
    job?: J,
  ) {
    this.phase = phase;
    this.job = job;
  }

  get over(): boolean {
    return this.phase.kind === "done";
  }

  /** One poll: the followed logs, a look at a job wf watches, and the time. */
  poll(now: number): void {
    for (const f of this.followers) f.poll();
    if (this.phase.kind === "running" && this.phase.by === "wf" && this.job !== undefined) {
      const observation = this.executor.observe(this.job);
      if (observation !== undefined) this.feed({ type: "seen", now, observation });
    }
    this.feed({ type: "tick", now });
  }

  /** Carries out the first step's actions (begin()'s start), and what the executor reports meanwhile. */
  open(actions: readonly AttemptAction[]): void {
    this.busy = true;
    try {
      this.carryOut(actions);
      this.drain();
    } finally {
      this.busy = false;
    }
  }

  /**
   * Steps the machine through `event` and whatever the executor reports
   * while its actions are carried out (a launcher may report at once, inside
   * start()), one event at a time, in order.
   */
  feed(event: AttemptEvent): void {
    this.queue.push(event);
    if (this.busy) return;
    this.busy = true;
    try {
      this.drain();
    } finally {
      this.busy = false;
    }
  }

  /** The attempt's result is in the journal. */
  journaled(): void {
    if (this.job !== undefined) this.executor.journaled(this.job);
  }

  private drain(): void {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      const { phase, actions } = step(this.phase, next, this.rules);
      this.phase = phase;
      this.carryOut(actions);
    }
  }

  private carryOut(actions: readonly AttemptAction[]): void {
    for (const action of actions) {
      switch (action.do) {
        case "start":
          if (this.spec === undefined) throw new Error("Internal error: a job of an earlier execution was to be started again");
          this.job = this.executor.start(this.spec, (e) => this.feed(e));
          break;
        case "end":
          if (this.job !== undefined) this.executor.end(this.job);
          break;
        case "give-up":
          if (this.job !== undefined) this.executor.giveUp(this.job, action.why);
          break;
        case "finish":
          this.finish(action.outcome);
          break;
        default:
          unreachable(action);
      }
    }
  }

  private finish(outcome: AttemptOutcome): void {
    for (const f of this.followers) f.end();
    if (this.job !== undefined) this.executor.forget(this.job);
    this.finished(this, this.result(outcome));
  }

  private result(outcome: AttemptOutcome): AttemptResult {
    const none = { exitCode: null, signal: null, lastStdoutLine: "", stderrTail: "", logTruncated: false } as const;
    switch (outcome.kind) {
      case "exited":
        return { ...attemptResult(outcome.result), timedOut: outcome.timedOut };
      case "shell":
        return { ...attemptResult(shellResult(outcome.code, { statusPath: this.statusPath, startedMs: outcome.startedMs }, outcome.endedMs)), timedOut: outcome.timedOut };
      case "not-started":
        return { ...none, timedOut: false, durationMs: Date.now() - this.requestedMs, spawnError: outcome.why };
      case "ended-by-wf":
        return { ...none, timedOut: outcome.timedOut, durationMs: outcome.durationMs };
      case "lost":
        return { ...none, timedOut: false, durationMs: outcome.durationMs, lost: { neverRan: outcome.neverRan, why: outcome.why } };
      case "vanished": {
        const stderr = readTail(this.statusPath.replace(/\.status$/, ".stderr.log"));
        return {
          ...none, timedOut: outcome.timedOut, durationMs: outcome.durationMs,
          stderrTail: lastLines(stderr, STDERR_TAIL_LINES),
          slurm: { state: outcome.state, by: outcome.by },
        };
      }
      default:
        return unreachable(outcome);
    }
  }
}

/**
 * The engine's Spawner: each attempt goes to the local executor, or to the
 * Slurm one when it has `slurm` settings (a re-attached job: when it has a
 * Slurm job id). The Slurm executor is made on first use.
 */
export class AttemptRunner implements Spawner {
  private readonly live = new Set<Attempt<unknown>>();
  /** Attempts that ended and whose result is not yet journaled, by status file. */
  private readonly ended = new Map<string, () => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private slurmExecutor: Executor<unknown> | undefined;

  constructor(
    private readonly local: Executor<unknown>,
    private readonly makeSlurm: () => Executor<unknown>,
  ) {}

  private slurm(): Executor<unknown> {
    return (this.slurmExecutor ??= this.makeSlurm());
  }

  run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult> {
    const executor = spec.slurm === undefined ? this.local : this.slurm();
    const followers = spec.onLine === undefined ? [] : [
      new LogFollower(spec.stdoutPath, (l) => spec.onLine!("stdout", l)),
      new LogFollower(spec.stderrPath, (l) => spec.onLine!("stderr", l)),
    ];
    const rules: AttemptRules = { ...executor.rules(false), restart: true, ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }) };
    const first = begin();
    return this.track(abort, spec.statusPath, (finished) => new Attempt(executor, rules, spec.statusPath, spec, followers, finished, first.phase), (attempt) => attempt.open(first.actions));
  }

  reattach(job: Reattach, abort: AbortSignal): Promise<AttemptResult> {
    const executor = job.jobId === undefined ? this.local : this.slurm();
    const rules: AttemptRules = { ...executor.rules(true), restart: false };
    const handle = executor.adopt(job);
    const phase = adopted(job.startedMs, job.deadline);
    return this.track(abort, job.statusPath, (finished) => new Attempt(executor, rules, job.statusPath, undefined, [], finished, phase, handle), () => {});
  }

  private track(
    abort: AbortSignal,
    statusPath: string,
    make: (finished: (attempt: Attempt<unknown>, result: AttemptResult) => void) => Attempt<unknown>,
    go: (attempt: Attempt<unknown>) => void,
  ): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const onAbort = () => attempt.feed({ type: "abort", now: Date.now() });
      const attempt = make((a, result) => {
        this.live.delete(a);
        abort.removeEventListener("abort", onAbort);
        this.ended.set(statusPath, () => a.journaled());
        resolve(result);
      });
      this.live.add(attempt);
      go(attempt);
      if (attempt.over) return;
      // A stop asked for before the attempt began reaches it at once.
      if (abort.aborted) onAbort();
      else abort.addEventListener("abort", onAbort, { once: true });
      this.timer ??= setInterval(() => this.poll(), POLL_MS);
    });
  }

  private poll(): void {
    if (this.live.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    for (const attempt of [...this.live]) attempt.poll(now);
  }

  journaled(statusPath: string): void {
    const tell = this.ended.get(statusPath);
    if (tell === undefined) return;
    this.ended.delete(statusPath);
    tell();
  }

  /** Ends every job now (a second Ctrl-C, or a fatal journal error). */
  killAll(): void {
    this.local.killAll();
    this.slurmExecutor?.killAll();
  }

  /** No more attempts: the launchers exit once their last job has ended. */
  close(): void {
    this.local.close();
    this.slurmExecutor?.close();
  }
}
