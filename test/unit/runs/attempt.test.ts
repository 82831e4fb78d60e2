/**
 * The attempt's state machine against every fault event of the job
 * machinery, as lists of events: the executor (a launcher, or Slurm) that
 * dies or stops, the job that ends unseen, never ran, or vanished from its
 * scheduler, the timeout and the stop. Nothing here runs a process.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { JobResult } from "../../../src/platform/job.ts";
import {
  adopted, type AttemptAction, type AttemptEvent, type AttemptOutcome, type AttemptPhase, type AttemptRules, begin, step,
} from "../../../src/runs/attempt.ts";

const LOCAL: AttemptRules = { timeoutMs: 2_000, deadlineFrom: "start", graceMs: 500, backstopMs: 1_000, restart: true };
const SLURM: AttemptRules = { timeoutMs: 2_000, deadlineFrom: "running", graceMs: 500, backstopMs: 1_000, restart: true };

const RESULT: JobResult = { exit_code: 0, signal: null, timed_out: false, duration_ms: 120, log_truncated: false, stdout_tail: "ok\n", stderr_tail: "" };

/** Feed events from the first phase; give the last phase and every action, in order. */
function run(events: readonly AttemptEvent[], rules: AttemptRules, from: AttemptPhase = begin().phase): { phase: AttemptPhase; actions: AttemptAction[] } {
  let phase = from;
  const actions: AttemptAction[] = [];
  for (const event of events) {
    const next = step(phase, event, rules);
    phase = next.phase;
    actions.push(...next.actions);
  }
  return { phase, actions };
}

const outcome = (phase: AttemptPhase): AttemptOutcome | undefined => (phase.kind === "done" ? phase.outcome : undefined);
const doing = (actions: readonly AttemptAction[]) => actions.map((a) => a.do);

describe("an attempt", () => {
  test("begins by starting its job", () => {
    assert.deepEqual(begin(), { phase: { kind: "starting", aborted: false }, actions: [{ do: "start" }] });
  });

  test("its executor reports the end: the exact result, once", () => {
    const { phase, actions } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "exited", result: RESULT },
      { type: "exited", result: { ...RESULT, exit_code: 1 } },
    ], LOCAL);
    assert.deepEqual(outcome(phase), { kind: "exited", result: RESULT, timedOut: false });
    assert.deepEqual(doing(actions), ["finish"]);
  });

  test("a job that could not be started is done, and never started again", () => {
    const { phase, actions } = run([{ type: "not-started", why: "no such directory" }], LOCAL);
    assert.deepEqual(outcome(phase), { kind: "not-started", why: "no such directory" });
    assert.deepEqual(doing(actions), ["finish"]);
  });

  test("its launcher dies before the job started: it starts afresh, since nothing of it runs", () => {
    const { phase, actions } = run([{ type: "executor-lost", now: 1_000 }], LOCAL);
    assert.deepEqual(phase, { kind: "starting", aborted: false });
    assert.deepEqual(doing(actions), ["start"]);
  });

  test("its launcher dies before the job started while the run stops: it is not started", () => {
    const { phase } = run([{ type: "abort", now: 900 }, { type: "executor-lost", now: 1_000 }], LOCAL);
    assert.deepEqual(outcome(phase), { kind: "not-started", why: "the run was stopping" });
  });

  test("its launcher dies while the job runs: wf watches it and takes the exit status its shell wrote, never starting it again", () => {
    const { phase, actions } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "executor-lost", now: 1_200 },
      { type: "seen", now: 1_300, observation: { kind: "running" } },
      { type: "tick", now: 1_400 },
      { type: "seen", now: 1_500, observation: { kind: "shell", code: 0 } },
    ], { ...LOCAL, timeoutMs: undefined });
    assert.deepEqual(outcome(phase), { kind: "shell", code: 0, startedMs: 1_000, endedMs: 1_500, timedOut: false });
    assert.deepEqual(doing(actions), ["finish"]);
  });

  test("its launcher dies after the job started but before it said so: the job's start is kept", () => {
    const { phase } = run([{ type: "executor-lost", now: 1_200, startedMs: 1_050 }], LOCAL);
    assert.deepEqual(phase, { kind: "running", by: "wf", startedMs: 1_050, aborted: false, gaveUp: false, deadline: 3_050 });
  });

  test("a status file found after the launcher died is the exact result (exit 137 is not a SIGKILL guess)", () => {
    const killed: JobResult = { ...RESULT, exit_code: null, signal: "SIGKILL" };
    const { phase } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "executor-lost", now: 1_200 },
      { type: "seen", now: 1_300, observation: { kind: "result", result: killed } },
    ], LOCAL);
    assert.deepEqual(outcome(phase), { kind: "exited", result: killed, timedOut: false });
  });

  test("its launcher dies and the deadline passes: wf ends the job itself and journals a timeout", () => {
    const { phase, actions } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "executor-lost", now: 1_200 },
      { type: "tick", now: 2_999 },
      { type: "tick", now: 3_000 },
      { type: "tick", now: 3_100 },
      { type: "seen", now: 3_200, observation: { kind: "unknown", why: "its job ended" } },
      { type: "seen", now: 3_800, observation: { kind: "unknown", why: "its job ended" } },
    ], LOCAL);
    assert.deepEqual(doing(actions), ["end", "finish"], "one end, at the deadline");
    assert.deepEqual(outcome(phase), { kind: "ended-by-wf", timedOut: true, durationMs: 2_200 });
  });

  test("a stopped launcher that keeps the timeout itself is given up on past the backstop, then its job is wf's to end", () => {
    const { phase, actions } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "tick", now: 3_500 },
      { type: "tick", now: 4_001 },
      { type: "tick", now: 4_500 },
      { type: "executor-lost", now: 4_600 },
    ], LOCAL);
    assert.deepEqual(actions, [{ do: "give-up", why: "did not end the job at its timeout" }, { do: "end" }]);
    assert.equal(phase.kind === "running" && phase.ending, "timeout");
  });

  test("a job wf ended past its deadline, once its launcher stopped, lasted until wf saw it end (not until its logs' last write)", () => {
    const { phase } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "tick", now: 4_001 },
      { type: "executor-lost", now: 4_100, startedMs: 900 },
      { type: "seen", now: 4_200, observation: { kind: "shell", code: 143 } },
    ], LOCAL);
    assert.deepEqual(outcome(phase), { kind: "shell", code: 143, startedMs: 900, endedMs: 4_200, timedOut: true });
  });

  test("a job that is gone without a word is waited on for the grace, then its outcome is unknown (it may have run)", () => {
    const gone = { kind: "unknown", why: "its job ended and no status was written" } as const;
    const early = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "wf" },
      { type: "seen", now: 1_100, observation: gone },
      { type: "seen", now: 1_599, observation: gone },
    ], LOCAL);
    assert.equal(early.phase.kind, "running", "inside the grace");
    const late = run([{ type: "seen", now: 1_600, observation: gone }], LOCAL, early.phase);
    assert.deepEqual(outcome(late.phase), { kind: "lost", why: gone.why, neverRan: false, durationMs: 100 });
  });

  test("a result that turns up inside the grace wins over the unknown", () => {
    const { phase } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "wf" },
      { type: "seen", now: 1_100, observation: { kind: "unknown", why: "gone" } },
      { type: "seen", now: 1_300, observation: { kind: "result", result: RESULT } },
    ], LOCAL);
    assert.deepEqual(outcome(phase), { kind: "exited", result: RESULT, timedOut: false });
  });

  test("a job that never ran starts again in a run, and is reported as never run by a resume", () => {
    const never = { type: "seen", now: 1_200, observation: { kind: "never-ran", why: "its launcher died before the command" } } as const;
    const inRun = run([{ type: "started", now: 1_000, startedMs: 1_000, by: "wf" }, never], LOCAL);
    assert.deepEqual(doing(inRun.actions), ["start"]);
    const inResume = run([never], { ...LOCAL, restart: false }, adopted(1_000, undefined));
    assert.deepEqual(outcome(inResume.phase), { kind: "lost", why: "its launcher died before the command", neverRan: true, durationMs: 200 });
  });

  test("a stop before the job exists reaches it once it does", () => {
    const { actions, phase } = run([
      { type: "abort", now: 900 },
      { type: "started", now: 1_000, startedMs: 1_000, by: "executor" },
      { type: "abort", now: 1_100 },
      { type: "exited", result: { ...RESULT, exit_code: null, signal: "SIGTERM" } },
    ], LOCAL);
    assert.deepEqual(doing(actions), ["end", "end", "finish"]);
    assert.equal(outcome(phase)?.kind, "exited");
  });

  test("a stop while wf watches the job ends it once, and a job gone without a word is then ended by wf, not lost", () => {
    const { actions, phase } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "wf" },
      { type: "abort", now: 1_100 },
      { type: "abort", now: 1_150 },
      { type: "seen", now: 1_200, observation: { kind: "unknown", why: "gone" } },
      { type: "seen", now: 1_700, observation: { kind: "unknown", why: "gone" } },
    ], { ...LOCAL, timeoutMs: undefined });
    assert.deepEqual(doing(actions), ["end", "finish"]);
    assert.deepEqual(outcome(phase), { kind: "ended-by-wf", timedOut: false, durationMs: 200 });
  });

  test("a queued Slurm job's timeout counts from when it is first seen running", () => {
    const { phase, actions } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "wf" },
      { type: "seen", now: 2_000, observation: { kind: "pending" } },
      { type: "seen", now: 4_000, observation: { kind: "running" } },
      { type: "tick", now: 5_999 },
    ], SLURM);
    assert.deepEqual(actions, [], "queued time does not count");
    assert.equal(phase.kind === "running" && phase.deadline, 6_000);
    assert.deepEqual(doing(run([{ type: "tick", now: 6_000 }], SLURM, phase).actions), ["end"]);
  });

  test("a Slurm job gone from the queue without a status file: dropped by the scheduler, or by wf's cancel", () => {
    const vanished = (now: number) => ({ type: "seen", now, observation: { kind: "vanished", state: "CANCELLED" } }) as const;
    const start = [{ type: "started", now: 1_000, startedMs: 1_000, by: "wf" }, { type: "seen", now: 1_500, observation: { kind: "running" } }] as const;
    const dropped = run([...start, vanished(2_000), vanished(2_500)], { ...SLURM, timeoutMs: undefined });
    assert.deepEqual(outcome(dropped.phase), { kind: "vanished", state: "CANCELLED", by: "scheduler", timedOut: false, durationMs: 500 });
    const cancelled = run([...start, { type: "tick", now: 3_500 }, vanished(3_600), vanished(4_100)], SLURM);
    assert.deepEqual(outcome(cancelled.phase), { kind: "vanished", state: "CANCELLED", by: "wf", timedOut: true, durationMs: 2_100 });
  });

  test("a job seen running again after a gone look starts its grace over", () => {
    const { phase } = run([
      { type: "started", now: 1_000, startedMs: 1_000, by: "wf" },
      { type: "seen", now: 1_100, observation: { kind: "unknown", why: "gone" } },
      { type: "seen", now: 1_400, observation: { kind: "running" } },
      { type: "seen", now: 1_700, observation: { kind: "unknown", why: "gone" } },
    ], { ...LOCAL, timeoutMs: undefined });
    assert.equal(phase.kind, "running");
  });
});

const result = fc.record({
  exit_code: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
  signal: fc.constantFrom(null, "SIGKILL", "SIGTERM"),
  timed_out: fc.boolean(),
  duration_ms: fc.nat(10_000),
  log_truncated: fc.constant(false),
  stdout_tail: fc.constant(""),
  stderr_tail: fc.constant(""),
});
const observation = fc.oneof(
  result.map((r) => ({ kind: "result", result: r }) as const),
  fc.integer({ min: 0, max: 255 }).map((code) => ({ kind: "shell", code }) as const),
  fc.constant({ kind: "never-ran", why: "never ran" } as const),
  fc.constant({ kind: "running" } as const),
  fc.constant({ kind: "pending" } as const),
  fc.constant({ kind: "unknown", why: "gone" } as const),
  fc.constant({ kind: "vanished", state: "FAILED" } as const),
);
/** Events in time order: each carries a later `now` than the one before. */
const events = fc.array(fc.tuple(fc.nat(800), fc.oneof(
  fc.constantFrom("executor", "wf").map((by) => (now: number): AttemptEvent => ({ type: "started", now, startedMs: now, by })),
  fc.constant((): AttemptEvent => ({ type: "not-started", why: "no" })),
  result.map((r) => (): AttemptEvent => ({ type: "exited", result: r })),
  fc.boolean().map((hadStarted) => (now: number): AttemptEvent => ({ type: "executor-lost", now, ...(hadStarted ? { startedMs: now - 1 } : {}) })),
  observation.map((o) => (now: number): AttemptEvent => ({ type: "seen", now, observation: o })),
  fc.constant((now: number): AttemptEvent => ({ type: "tick", now })),
  fc.constant((now: number): AttemptEvent => ({ type: "abort", now })),
)), { maxLength: 40 }).map((list) => {
  let now = 1_000;
  return list.map(([gap, make]) => make((now += gap)));
});
const rules = fc.record({
  timeoutMs: fc.option(fc.integer({ min: 1, max: 3_000 }), { nil: undefined }),
  deadlineFrom: fc.constantFrom("start" as const, "running" as const),
  graceMs: fc.nat(1_000),
  backstopMs: fc.nat(2_000),
  restart: fc.boolean(),
});

describe("whatever the events", () => {
  test("an attempt finishes at most once, and does nothing after", () => {
    fc.assert(fc.property(events, rules, (list, r) => {
      const { phase, actions } = run(list, r);
      const finishes = actions.filter((a) => a.do === "finish");
      assert.ok(finishes.length <= 1);
      if (finishes.length === 1) {
        assert.equal(actions.at(-1)?.do, "finish");
        assert.equal(phase.kind, "done");
      }
    }));
  });

  test("a job is started again only when nothing of it can be running, never once the run stops, never by a resume", () => {
    fc.assert(fc.property(events, rules, (list, r) => {
      let phase = begin().phase;
      let aborted = false;
      for (const event of list) {
        if (event.type === "abort") aborted = true;
        const next = step(phase, event, r);
        if (next.actions.some((a) => a.do === "start")) {
          assert.ok(r.restart || phase.kind === "starting", "a resume never starts a job");
          assert.ok(!aborted, "no start once the run stops");
          const nothingRuns = (event.type === "executor-lost" && event.startedMs === undefined)
            || (event.type === "seen" && event.observation.kind === "never-ran");
          assert.ok(nothingRuns, `a start only after a sign that nothing of the job runs (${event.type})`);
        }
        phase = next.phase;
      }
    }));
  });

  test("a job is asked to end at most twice per start (a stop before it existed, and when it does), and wf ends one it watches only on a stop or past its deadline", () => {
    fc.assert(fc.property(events, rules, (list, r) => {
      let phase = begin().phase;
      let aborted = false;
      let endsSinceStart = 0;
      for (const event of list) {
        if (event.type === "abort") aborted = true;
        const next = step(phase, event, r);
        const ending = next.actions.filter((a) => a.do === "end").length;
        if (ending > 0 && phase.kind === "running" && phase.by === "wf" && next.phase.kind === "running") {
          const pastDeadline = next.phase.deadline !== undefined && "now" in event && event.now >= next.phase.deadline;
          assert.ok(aborted || pastDeadline, "an end only on a stop or past the deadline");
        }
        endsSinceStart = next.actions.some((a) => a.do === "start") ? 0 : endsSinceStart + ending;
        assert.ok(endsSinceStart <= 2, "no end asked for twice for one reason");
        phase = next.phase;
      }
    }));
  });
});
