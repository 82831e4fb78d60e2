import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppendableEvent, JournalRecord } from "../../../src/journal/events.ts";
import { foldJournal } from "../../../src/journal/fold.ts";

const node = (id: string, deps: string[] = []) => ({ id, task: id, deps, def_sha256: "h" });

function journal(...events: AppendableEvent[]): JournalRecord[] {
  const all = [
    { type: "header", format: 1, writer: "wf test" },
    {
      type: "run_started", workflow: "ci", file: "/ci.toml", file_sha256: "f", tags: [],
      nodes: [node("lint"), node("test", ["lint"]), node("build", ["test"])],
      mode: "parallel", max_parallel: 2, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    },
    ...events,
  ] as const;
  return all.map((e, seq) => ({ ...e, v: 1, seq, ts: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), run: "r1", crc: "0" }) as JournalRecord);
}

const started = (task: string, attempt = 1): AppendableEvent => ({
  type: "task_started", task, attempt, max_attempts: attempt, cmd: task, stdout_log: "o", stderr_log: "e",
});
const finished = (task: string, state: "succeeded" | "failed", attempt = 1, willRetry = false): AppendableEvent => ({
  type: "task_finished", task, attempt, state, exit_code: state === "succeeded" ? 0 : 1, signal: null, timed_out: false,
  duration_ms: 5, will_retry: willRetry, ignored: false, ...(state === "failed" ? { error: "exit status 1" } : {}),
});

function fold(records: JournalRecord[], live = false) {
  const r = foldJournal(records, live);
  assert.ok(r.ok);
  return r.value;
}

describe("foldJournal()", () => {
  test("a failed run: each task's latest state, the failure's reason, the final status", () => {
    const s = fold(journal(
      { type: "run_status", status: "running" },
      started("lint"), finished("lint", "succeeded"),
      started("test"), finished("test", "failed"),
      { type: "task_cancelled", task: "build", reason: 'dependency "test" failed' },
      { type: "run_status", status: "failed" },
    ));
    assert.equal(s.status, "failed");
    assert.deepEqual([...s.tasks.values()].map((t) => [t.id, t.state, t.reason]), [
      ["lint", "succeeded", undefined],
      ["test", "failed", "exit status 1"],
      ["build", "cancelled", 'dependency "test" failed'],
    ]);
    assert.equal(s.endedAt, "2026-01-01T00:00:08.000Z");
  });

  test("a run with no final status and no owner was interrupted, and so were its unfinished tasks", () => {
    const records = journal({ type: "run_status", status: "running" }, started("lint"), finished("lint", "succeeded"), started("test"));
    const s = fold(records);
    assert.equal(s.status, "interrupted");
    assert.equal(s.tasks.get("test")?.state, "interrupted");
    assert.equal(s.tasks.get("build")?.state, "pending");
    const live = fold(records, true);
    assert.equal(live.status, "running");
    assert.equal(live.tasks.get("test")?.state, "running");
  });

  test("variables keep their most recent value; attempts are numbered across executions", () => {
    const s = fold(journal(
      { type: "run_status", status: "running" },
      { type: "var_registered", name: "version", value: "v1", task: "lint" },
      started("lint"), finished("lint", "succeeded"),
      started("test", 1), finished("test", "failed", 1, true), started("test", 2), finished("test", "failed", 2),
      { type: "run_status", status: "failed" },
      { type: "run_status", status: "resuming", mode: "work-stealing", max_parallel: 3 },
      { type: "task_skipped", task: "lint", reason: "already succeeded" },
      { type: "var_registered", name: "version", value: "v2", task: "lint" },
      started("test", 3), finished("test", "succeeded", 3),
      started("build", 1), finished("build", "succeeded", 1),
      { type: "run_status", status: "success" },
    ));
    assert.equal(s.status, "success");
    assert.equal(s.resumes, 1);
    assert.equal(s.mode, "work-stealing");
    assert.equal(s.maxParallel, 3);
    assert.equal(s.vars.get("version")?.value, "v2");
    assert.equal(s.lastAttempt.get("test"), 3);
    assert.equal(s.tasks.get("lint")?.state, "succeeded", "a resume's skip line does not undo a success");
    assert.deepEqual(s.tasks.get("test")?.attempts.map((a) => [a.attempt, a.finished?.state]), [[1, "failed"], [2, "failed"], [3, "succeeded"]]);
  });

  test("a resume marks what was still running as interrupted", () => {
    const s = fold(journal({ type: "run_status", status: "running" }, started("lint"), { type: "run_status", status: "resuming" }), true);
    assert.equal(s.tasks.get("lint")?.state, "interrupted");
    assert.equal(s.status, "resuming");
  });

  test("forensic attempts are kept apart from the task nodes", () => {
    const s = fold(journal(
      { type: "task_started", task: "collect", attempt: 1, max_attempts: 1, cmd: "c", stdout_log: "o", stderr_log: "e", forensic_for: "test" },
      { ...finished("collect", "succeeded"), forensic_for: "test" } as AppendableEvent,
    ));
    assert.equal(s.tasks.has("collect"), false);
    assert.deepEqual(s.forensic.map((f) => [f.task, f.target, f.attempt.finished?.state]), [["collect", "test", "succeeded"]]);
  });

  test("each line finds its task whatever the order: interleaved attempts, backwards, a task the graph did not have", () => {
    const s = fold(journal(
      { type: "run_status", status: "running" },
      started("build"), started("lint"), { type: "task_spawned", task: "build", attempt: 1, pid: 11 },
      { type: "task_spawned", task: "lint", attempt: 1, pid: 12 }, finished("lint", "succeeded"),
      started("extra"), { type: "task_spawned", task: "extra", attempt: 1, pid: 13 },
      finished("build", "failed"), finished("extra", "succeeded"),
      { type: "run_status", status: "failed" },
      { type: "run_status", status: "resuming" },
      { type: "task_skipped", task: "extra", reason: "done" }, { type: "task_skipped", task: "lint", reason: "done" },
      { type: "task_cancelled", task: "test", reason: "stop" }, { type: "task_cancelled", task: "build", reason: "stop" },
      { type: "run_status", status: "cancelled" },
    ));
    assert.deepEqual([...s.tasks.keys()], ["lint", "test", "build", "extra"], "graph order, then what a resume added");
    assert.deepEqual(
      [...s.tasks.values()].map((t) => [t.id, t.state, t.attempts.map((a) => [a.attempt, a.pid, a.finished?.state])]),
      [
        ["lint", "succeeded", [[1, 12, "succeeded"]]],
        ["test", "cancelled", []],
        ["build", "cancelled", [[1, 11, "failed"]]],
        ["extra", "succeeded", [[1, 13, "succeeded"]]],
      ],
    );
    assert.deepEqual([...s.lastAttempt], [["build", 1], ["lint", 1], ["extra", 1]]);
  });

  test("a journal cut before run_started is an error sentence", () => {
    const r = foldJournal(journal().slice(0, 1));
    assert.deepEqual(r, { ok: false, error: "its journal has no run_started line: the run was cut off while being created, before any task started" });
  });
});
