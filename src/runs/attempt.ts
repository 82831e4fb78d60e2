/**
 * The life of one attempt, whatever runs it: a pure state machine that every
 * executor (engine/executors/) feeds with what it hears and sees, and whose
 * actions it carries out. Nothing here starts, reads or kills anything.
 *
 *                  ┌──── never ran (no job of it exists): start it again ◄─────────────┐
 *                  v                                                                  │
 *   starting ──started──> running, reported by the executor ──exited──> done         │
 *      │                     │ executor lost (died, stopped, silent),                 │
 *      │ not started         │ or silent past its deadline (give-up)                  │
 *      v                     v                                                        │
 *     done          running, watched by wf: each poll's observation ──────────────────┤
 *                      result / shell's exit line ──> done                            │
 *                      running: wf keeps the deadline and the stop (end)              │
 *                      unknown / vanished, past the grace ──> done (ended by wf,      │
 *                        lost: the outcome is not known, or the scheduler's state)    │
 *
 * Time comes in with the events (`now`, epoch ms), so every path is a test
 * of a list of events (test/unit/runs/attempt.test.ts).
 */
import type { JobResult } from "../platform/job.ts";
import { unreachable } from "../util/unreachable.ts";
import type { JobVerdict } from "./verdict.ts";

/** What one executor's job is like, for the machine. */
export interface AttemptRules {
  /** The task's timeout. */
  readonly timeoutMs?: number;
  /** The timeout counts from the start, or from when the job is first seen running (a queued Slurm job). */
  readonly deadlineFrom: "start" | "running";
  /** How long a job gone without a word (or gone from its scheduler) gets for its result to appear. */
  readonly graceMs: number;
  /** How long past its deadline an executor that keeps the timeout itself may be silent before wf gives up on it. */
  readonly backstopMs: number;
  /** A job that never ran is started again (in a run); else (a resume watching an earlier one) it is reported. */
  readonly restart: boolean;
}

/** What one look at a job, by wf, found (judgeJob's verdict for a local job; the status file and the queue for Slurm). */
export type Observation =
  /** Its status file: the exact result. */
  | { readonly kind: "result"; readonly result: JobResult }
  /** Its shell's exit line: the exit status only. */
  | { readonly kind: "shell"; readonly code: number }
  /** Its command never ran, and why. */
  | { readonly kind: "never-ran"; readonly why: string }
  /** It runs. */
  | { readonly kind: "running" }
  /** Not running yet (queued), or ended with its result still on the way. */
  | { readonly kind: "pending" }
  /** Gone, and nothing says how it ended. */
  | { readonly kind: "unknown"; readonly why: string }
  /** Gone from its scheduler without a status file, in this state (`unknown` once the scheduler forgot it). */
  | { readonly kind: "vanished"; readonly state: string };

export type AttemptEvent =
  /** The job exists. `by`: whether its executor reports its end, or wf must watch it. `startedMs`: when it started. */
  | { readonly type: "started"; readonly now: number; readonly startedMs: number; readonly by: "executor" | "wf" }
  /** It could not be started at all. */
  | { readonly type: "not-started"; readonly why: string }
  /** Its executor reported its end. */
  | { readonly type: "exited"; readonly result: JobResult }
  /** Its executor is gone before it reported the end; `startedMs` is when the job started, if it ever did. */
  | { readonly type: "executor-lost"; readonly now: number; readonly startedMs?: number }
  /** What wf found when it looked at the job. */
  | { readonly type: "seen"; readonly now: number; readonly observation: Observation }
  /** Time passed. */
  | { readonly type: "tick"; readonly now: number }
  /** The run is stopping: end the job. */
  | { readonly type: "abort"; readonly now: number };

/** How the attempt ended, for the executor to turn into a result. */
export type AttemptOutcome =
  /** The exact result, from its executor or its status file. */
  | { readonly kind: "exited"; readonly result: JobResult; readonly timedOut: boolean }
  /** Its shell's exit status; it started at `startedMs`, and ended at `endedMs` when wf saw it end (else its logs' last write is the best guess). */
  | { readonly kind: "shell"; readonly code: number; readonly startedMs: number; readonly endedMs?: number; readonly timedOut: boolean }
  /** It never started. */
  | { readonly kind: "not-started"; readonly why: string }
  /** wf ended it (its timeout, or the stop) and it left no word. */
  | { readonly kind: "ended-by-wf"; readonly timedOut: boolean; readonly durationMs: number }
  /** Not known: it may have run (`neverRan` false) or certainly did not. */
  | { readonly kind: "lost"; readonly why: string; readonly neverRan: boolean; readonly durationMs: number }
  /** Its scheduler dropped it without a status file: in `state`, by this wf's cancel or by the scheduler. */
  | { readonly kind: "vanished"; readonly state: string; readonly by: "wf" | "scheduler"; readonly timedOut: boolean; readonly durationMs: number };

export type AttemptPhase =
  | { readonly kind: "starting"; readonly aborted: boolean }
  | {
      readonly kind: "running";
      readonly by: "executor" | "wf";
      readonly startedMs: number;
      readonly aborted: boolean;
      /** When its timeout ends it, once known. */
      readonly deadline?: number;
      /** When it was first seen running. */
      readonly runningSince?: number;
      /** wf has asked for it to end, and why. */
      readonly ending?: "timeout" | "abort";
      /** wf asked its executor to give up. */
      readonly gaveUp: boolean;
      /** When wf first found it gone without a word (or gone from its scheduler). */
      readonly goneSince?: number;
    }
  | { readonly kind: "done"; readonly outcome: AttemptOutcome };

export type AttemptAction =
  /** Start the job (again: a fresh start, on an executor that is not gone). */
  | { readonly do: "start" }
  /** End the job: through its executor while it reports, else by wf (its group: SIGTERM, then SIGKILL; scancel). */
  | { readonly do: "end" }
  /** Stop trusting the executor that reports on it: it is then lost (executor-lost follows). */
  | { readonly do: "give-up"; readonly why: string }
  /** The attempt is over. */
  | { readonly do: "finish"; readonly outcome: AttemptOutcome };

export interface Step {
  readonly phase: AttemptPhase;
  readonly actions: readonly AttemptAction[];
}

/** The first phase of an attempt that is about to start; the caller carries out `start`. */
export function begin(): Step {
  return { phase: { kind: "starting", aborted: false }, actions: [{ do: "start" }] };
}

/** The phase of a job an earlier execution started, which wf watches from now on. */
export function adopted(startedMs: number, deadline: number | undefined): AttemptPhase {
  return { kind: "running", by: "wf", startedMs, aborted: false, gaveUp: false, ...(deadline === undefined ? {} : { deadline }) };
}

type Running = Extract<AttemptPhase, { kind: "running" }>;

const done = (outcome: AttemptOutcome): Step => ({ phase: { kind: "done", outcome }, actions: [{ do: "finish", outcome }] });
const stay = (phase: AttemptPhase): Step => ({ phase, actions: [] });

function deadlineAt(rules: AttemptRules, from: number): number | undefined {
  return rules.timeoutMs === undefined ? undefined : from + rules.timeoutMs;
}

/** The next phase and what to do, for one event. */
export function step(phase: AttemptPhase, event: AttemptEvent, rules: AttemptRules): Step {
  if (phase.kind === "done") return stay(phase);
  if (phase.kind === "starting") return fromStarting(phase, event, rules);
  return fromRunning(phase, event, rules);
}

function fromStarting(phase: Extract<AttemptPhase, { kind: "starting" }>, event: AttemptEvent, rules: AttemptRules): Step {
  switch (event.type) {
    case "started": {
      const deadline = rules.deadlineFrom === "start" ? deadlineAt(rules, event.startedMs) : undefined;
      const running: Running = {
        kind: "running", by: event.by, startedMs: event.startedMs, aborted: phase.aborted, gaveUp: false,
        ...(deadline === undefined ? {} : { deadline }),
        ...(phase.aborted ? { ending: "abort" as const } : {}),
      };
      // A stop asked for before the job existed reaches it now (an executor may also have passed it on in order).
      return { phase: running, actions: phase.aborted ? [{ do: "end" }] : [] };
    }
    case "not-started":
      return done({ kind: "not-started", why: event.why });
    case "executor-lost":
      // Its executor went before the job started: nothing of it runs, so it starts afresh.
      if (event.startedMs === undefined) return phase.aborted ? done({ kind: "not-started", why: "the run was stopping" }) : { phase, actions: [{ do: "start" }] };
      return fromStarting(phase, { type: "started", now: event.now, startedMs: event.startedMs, by: "wf" }, rules);
    case "abort":
      return phase.aborted ? stay(phase) : { phase: { ...phase, aborted: true }, actions: [{ do: "end" }] };
    case "exited":
      return done({ kind: "exited", result: event.result, timedOut: event.result.timed_out });
    case "seen":
    case "tick":
      return stay(phase);
    default:
      return unreachable(event);
  }
}

function fromRunning(phase: Running, event: AttemptEvent, rules: AttemptRules): Step {
  switch (event.type) {
    case "started":
    case "not-started":
      return stay(phase);
    case "exited":
      return done({ kind: "exited", result: event.result, timedOut: event.result.timed_out || phase.ending === "timeout" });
    case "executor-lost": {
      if (phase.by === "wf") return stay(phase);
      const startedMs = event.startedMs ?? phase.startedMs;
      const deadline = phase.deadline === undefined || event.startedMs === undefined ? phase.deadline : deadlineAt(rules, startedMs);
      const watched: Running = { ...phase, by: "wf", startedMs, ...(deadline === undefined ? {} : { deadline }) };
      // The stop its executor may not have passed on is wf's to keep now, as is the deadline (next tick).
      return keepEnding(watched, event.now);
    }
    case "abort":
      if (phase.aborted) return stay(phase);
      if (phase.ending !== undefined) return stay({ ...phase, aborted: true });
      return { phase: { ...phase, aborted: true, ending: "abort" }, actions: [{ do: "end" }] };
    case "tick":
      if (phase.by === "wf") return keepEnding(phase, event.now);
      // An executor that keeps the timeout itself and has not ended the job well past it is not trusted any more.
      if (!phase.gaveUp && phase.deadline !== undefined && event.now > phase.deadline + rules.backstopMs) {
        return { phase: { ...phase, gaveUp: true }, actions: [{ do: "give-up", why: "did not end the job at its timeout" }] };
      }
      return stay(phase);
    case "seen":
      return observed(phase, event.now, event.observation, rules);
    default:
      return unreachable(event);
  }
}

/** A job wf watches: the stop and the deadline are wf's to keep. */
function keepEnding(phase: Running, now: number): Step {
  if (phase.ending !== undefined) return stay(phase);
  if (phase.aborted) return { phase: { ...phase, ending: "abort" }, actions: [{ do: "end" }] };
  if (phase.deadline !== undefined && now >= phase.deadline) return { phase: { ...phase, ending: "timeout" }, actions: [{ do: "end" }] };
  return stay(phase);
}

function observed(phase: Running, now: number, o: Observation, rules: AttemptRules): Step {
  const timedOut = phase.ending === "timeout";
  switch (o.kind) {
    case "result":
      return done({ kind: "exited", result: o.result, timedOut: o.result.timed_out || timedOut });
    case "shell":
      // Seen running by this watch, or asked to end while it ran (its timeout, the stop): it ended within one look of now.
      return done({
        kind: "shell", code: o.code, startedMs: phase.startedMs, timedOut,
        ...(phase.runningSince === undefined && phase.ending === undefined ? {} : { endedMs: now }),
      });
    case "never-ran":
      if (rules.restart && !phase.aborted) return { phase: { kind: "starting", aborted: false }, actions: [{ do: "start" }] };
      if (rules.restart) return done({ kind: "not-started", why: "the run was stopping" });
      return done({ kind: "lost", why: o.why, neverRan: true, durationMs: Math.max(0, now - phase.startedMs) });
    case "running": {
      const runningSince = phase.runningSince ?? now;
      const deadline = phase.deadline ?? (rules.deadlineFrom === "running" ? deadlineAt(rules, runningSince) : undefined);
      const { goneSince: _, ...rest } = phase;
      const next: Running = { ...rest, runningSince, ...(deadline === undefined ? {} : { deadline }) };
      return phase.by === "wf" ? keepEnding(next, now) : stay(next);
    }
    case "pending": {
      const { goneSince: _, ...rest } = phase;
      return stay(rest);
    }
    case "unknown":
    case "vanished": {
      const goneSince = phase.goneSince ?? now;
      if (now - goneSince < rules.graceMs) return stay({ ...phase, goneSince });
      // From when it started, or (a queued job) from when it was first seen running.
      const from = rules.deadlineFrom === "running" ? (phase.runningSince ?? phase.startedMs) : phase.startedMs;
      const durationMs = Math.max(0, goneSince - from);
      if (o.kind === "vanished") {
        return done({ kind: "vanished", state: o.state, by: phase.ending === undefined ? "scheduler" : "wf", timedOut, durationMs });
      }
      // wf ended it (SIGTERM, then SIGKILL), and its shell went with it before writing a word.
      if (phase.ending !== undefined) return done({ kind: "ended-by-wf", timedOut, durationMs });
      return done({ kind: "lost", why: o.why, neverRan: false, durationMs });
    }
    default:
      return unreachable(o);
  }
}

/** A local job's verdict (judgeJob) as an observation. */
export function observation(verdict: JobVerdict): Observation {
  switch (verdict.kind) {
    case "result":
      return verdict.source === "launcher" ? { kind: "result", result: verdict.status } : { kind: "shell", code: verdict.code };
    case "never-ran":
    case "unknown":
      return { kind: verdict.kind, why: verdict.why };
    case "running":
    case "pending":
      return { kind: verdict.kind };
    default:
      return unreachable(verdict);
  }
}
