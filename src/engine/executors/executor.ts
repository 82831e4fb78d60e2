/**
 * What an executor is to the attempt runner (../attempts.ts): a way to start
 * a job, recognise it, look at it and end it. Everything an attempt does with
 * what it hears is the state machine's (runs/attempt.ts), the same for every
 * executor; an executor only carries out its actions and reports what it
 * hears and sees. A new executor is one new file that implements this.
 */
import type { AttemptEvent, AttemptRules, Observation } from "../../runs/attempt.ts";
import type { AttemptSpec, Reattach } from "../spawner.ts";

/** `J`: the executor's handle of one job. */
export interface Executor<J> {
  /** What its jobs are like: when their timeout starts, how long a job gone without a word gets. `adopted`: a job of an earlier execution. */
  rules(adopted: boolean): Omit<AttemptRules, "timeoutMs" | "restart">;
  /** Starts the attempt's job; what it hears of the job comes through `report` (started, not-started, exited, executor-lost), maybe at once. */
  start(spec: AttemptSpec, report: (event: AttemptEvent) => void): J;
  /** The handle of a job an earlier execution started, which wf watches from now on. */
  adopt(job: Reattach): J;
  /** What the job left behind, looked at now; undefined when there is nothing to tell yet. */
  observe(job: J): Observation | undefined;
  /** Ends the job: through whatever reports on it while it does, else itself (idempotent). */
  end(job: J): void;
  /** Stops trusting whatever reports on the job (it missed the job's deadline): executor-lost follows. */
  giveUp(job: J, why: string): void;
  /** The attempt's result is in the journal: what kept it for a resume may forget it. */
  journaled(job: J): void;
  /** The attempt is over: the executor forgets the job. */
  forget(job: J): void;
  /** Ends every job now (a second Ctrl-C, a fatal journal error), without waiting for anything. */
  killAll(): void;
  /** No more attempts. */
  close(): void;
}
