import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppendableEvent, JournalRecord } from "../../../src/journal/events.ts";
import { buildTimeline, TimeScale } from "../../../src/report/timeline.ts";

const node = (id: string, deps: string[] = []) => ({ id, task: id, deps, def_sha256: "h" });
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** Records at the given seconds after T0; the header and run_started come at second 0. */
function journal(nodes: ReturnType<typeof node>[], ...events: [number, AppendableEvent][]): JournalRecord[] {
  const all: [number, unknown][] = [
    [0, { type: "header", format: 1, writer: "wf test" }],
    [0, {
      type: "run_started", workflow: "ci", file: "/ci.toml", file_sha256: "f", tags: [], nodes,
      mode: "parallel", max_parallel: 2, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    }],
    ...events,
  ];
  return all.map(([s, e], seq) => ({ ...(e as object), v: 1, seq, ts: new Date(T0 + s * 1000).toISOString(), run: "r1", crc: "0" }) as JournalRecord);
}

const started = (task: string, attempt = 1, forensicFor?: string): AppendableEvent => ({
  type: "task_started", task, attempt, max_attempts: attempt, cmd: task, stdout_log: `logs/${task}.${attempt}.stdout.log`, stderr_log: `logs/${task}.${attempt}.stderr.log`,
  ...(forensicFor === undefined ? {} : { forensic_for: forensicFor }),
});
const finished = (task: string, state: "succeeded" | "failed", more: Partial<AppendableEvent & { type: "task_finished" }> = {}): AppendableEvent => ({
  type: "task_finished", task, attempt: 1, state, exit_code: state === "succeeded" ? 0 : 1, signal: null, timed_out: false,
  duration_ms: 1000, will_retry: false, ignored: false, ...more,
});
const status = (s: "running" | "resuming" | "success" | "failed" | "cancelled", more: object = {}): AppendableEvent =>
  ({ type: "run_status", status: s, ...more }) as AppendableEvent;

const bars = (t: ReturnType<typeof buildTimeline>) =>
  t.rows.flatMap((r) => r.attempts.map((a) => [r.id, a.attempt, (a.start - T0) / 1000, (a.end - T0) / 1000, a.outcome, a.execution]));

describe("buildTimeline()", () => {
  test("a bar per attempt from task_started to task_finished, coloured by outcome; the critical path follows the dependency that ended last", () => {
    const t = buildTimeline(journal(
      [node("a"), node("b"), node("c", ["a", "b"])],
      [1, status("running")],
      [1, started("a")], [1, started("b")],
      [3, finished("a", "succeeded")],
      [6, finished("b", "failed", { will_retry: true })],
      [6, started("b", 2)],
      [8, finished("b", "succeeded", { attempt: 2 })],
      [8, started("c")],
      [9, finished("c", "failed", { timed_out: true, exit_code: null, signal: "SIGTERM" })],
      [10, status("failed", { reason: "task \"c\" failed" })],
    ), { live: false, now: 0 });
    assert.deepEqual(bars(t), [
      ["a", 1, 1, 3, "succeeded", 0],
      ["b", 1, 1, 6, "failed", 0],
      ["b", 2, 6, 8, "succeeded", 0],
      ["c", 1, 8, 9, "timed-out", 0],
    ]);
    assert.deepEqual(t.criticalPath, ["b", "c"]);
    assert.deepEqual(t.rows.map((r) => r.critical), [false, true, true]);
    assert.deepEqual(t.executions.map((e) => [e.status, e.reason, (e.end - e.start) / 1000]), [["failed", "task \"c\" failed", 10]]);
    assert.equal(t.summary.taskMs, 10_000);
    assert.equal(t.summary.wallMs, 10_000);
    assert.equal(t.summary.parallelism, 1);
    assert.equal(t.summary.criticalMs, 8_000);
    assert.deepEqual(t.summary.longest.map((l) => [l.id, l.ms, l.attempts]), [["b", 7000, 2], ["a", 2000, 1], ["c", 1000, 1]]);
  });

  test("a resume is a new execution with its own mode; the attempt a killed wf left open was interrupted at its execution's last record", () => {
    const t = buildTimeline(journal(
      [node("a"), node("b", ["a"])],
      [0, status("running")],
      [0, started("a")], [2, finished("a", "succeeded")],
      [2, started("b")],
      [4, { type: "task_spawned", task: "b", attempt: 1, pid: 9 }],
      [100, status("resuming", { mode: "sequential", max_parallel: 1 })],
      [100, { type: "task_skipped", task: "a", reason: "already succeeded" }],
      [101, started("b", 2)],
      [103, finished("b", "succeeded", { attempt: 2 })],
      [103, status("success")],
    ), { live: false, now: 0 });
    assert.deepEqual(bars(t), [
      ["a", 1, 0, 2, "succeeded", 0],
      ["b", 1, 2, 4, "interrupted", 0],
      ["b", 2, 101, 103, "succeeded", 1],
    ]);
    assert.deepEqual(t.executions.map((e) => [e.index, e.status, e.mode, e.maxParallel, (e.start - T0) / 1000, (e.end - T0) / 1000]), [
      [0, "interrupted", "parallel", 2, 0, 4],
      [1, "success", "sequential", 1, 100, 103],
    ]);
    // "already succeeded" is no mark: the bar of the first execution says so.
    assert.deepEqual(t.rows.map((r) => r.marks.length), [0, 0]);
    assert.equal(t.summary.executionMs, 7000);
    assert.deepEqual(t.criticalPath, ["a", "b"]);
  });

  test("running attempts of a live run end now; skipped and cancelled tasks are marks, not bars; a forensic task has its own row", () => {
    const t = buildTimeline(journal(
      [node("a"), node("b", ["a"]), node("c", ["b"])],
      [0, status("running")],
      [0, { type: "task_skipped", task: "a", reason: "condition is false: x" }],
      [1, started("b")],
      [2, finished("b", "failed", { attempt: 1 })],
      [2, { type: "task_cancelled", task: "c", reason: 'dependency "b" failed' }],
      [3, started("dump", 1, "b")],
    ), { live: true, now: T0 + 7000 });
    assert.deepEqual(bars(t), [["b", 1, 1, 2, "failed", 0], ["dump", 1, 3, 7, "running", 0]]);
    assert.deepEqual(t.rows.map((r) => [r.id, r.forensicFor, r.marks.map((m) => [m.kind, (m.at - T0) / 1000])]), [
      ["a", undefined, [["skipped", 0]]],
      ["b", undefined, []],
      ["c", undefined, [["cancelled", 2]]],
      ["dump", "b", []],
    ]);
    assert.equal(t.executions[0]?.status, "running");
    assert.equal((t.end - T0) / 1000, 7);
  });

  test("an attempt killed by a signal while its execution was cancelled is cancelled; an adopted result ends at its start plus its duration", () => {
    const t = buildTimeline(journal(
      [node("a"), node("b")],
      [0, status("running")],
      [0, started("a")], [0, started("b")],
      [5, finished("a", "failed", { exit_code: null, signal: "SIGTERM" })],
      [5, status("cancelled", { reason: "interrupted" })],
      [50, status("resuming")],
      [50, finished("b", "succeeded", { duration_ms: 20_000, adopted: true })],
      [51, status("success")],
    ), { live: false, now: 0 });
    assert.deepEqual(bars(t), [["a", 1, 0, 5, "cancelled", 0], ["b", 1, 0, 20, "adopted", 0]]);
    assert.equal(t.executions[1]?.mode, "parallel", "a resume without a mode keeps the run's");
  });

  test("a job a resume re-attached to goes on in that resume: running while it is live, interrupted at its end otherwise", () => {
    const records = (resumeEnds: boolean) => journal(
      [node("a")],
      [0, status("running")],
      [0, started("a")],
      [3, { type: "task_spawned", task: "a", attempt: 1, pid: 7 }],
      [10, status("resuming")],
      [10, { type: "task_reattached", task: "a", attempt: 1, pid: 7 }],
      ...(resumeEnds ? [[12, status("cancelled")] as [number, AppendableEvent]] : []),
    );
    assert.deepEqual(bars(buildTimeline(records(false), { live: true, now: T0 + 15_000 })), [["a", 1, 0, 15, "running", 0]]);
    assert.deepEqual(bars(buildTimeline(records(false), { live: false, now: 0 })), [["a", 1, 0, 10, "interrupted", 0]]);
    assert.deepEqual(bars(buildTimeline(records(true), { live: false, now: 0 })), [["a", 1, 0, 12, "interrupted", 0]]);
  });

  test("an attempt that failed before it could start (no task_started) is a bar of no length at its finish", () => {
    const t = buildTimeline(journal([node("a")], [0, status("running")], [3, finished("a", "failed", { exit_code: null, error: "could not start" })], [3, status("failed")]), { live: false, now: 0 });
    assert.deepEqual(bars(t), [["a", 1, 3, 3, "failed", 0]]);
  });
});

describe("TimeScale", () => {
  test("executions are drawn at one scale; a long wait between them is drawn gap wide", () => {
    const t = { start: 0, end: 1_000_000, executions: [{ start: 0, end: 10_000 }, { start: 990_000, end: 1_000_000 }] };
    const s = new TimeScale(t as never, 110, 10);
    assert.deepEqual([s.x(0), s.x(5_000), s.x(10_000), s.x(500_000), s.x(990_000), s.x(1_000_000)], [0, 25, 50, 60, 60, 110]);
    assert.deepEqual(s.breaks, [{ x: 50, from: 10_000, to: 990_000 }]);
  });

  test("a short wait stays at scale", () => {
    const t = { start: 0, end: 100_000, executions: [{ start: 0, end: 50_000 }, { start: 52_000, end: 100_000 }] };
    const s = new TimeScale(t as never, 100, 10);
    assert.equal(s.breaks.length, 0);
    assert.equal(s.x(51_000), 51);
  });
});
