import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppendableEvent, Event, JournalRecord } from "../../../src/journal/events.ts";
import { encodeLine } from "../../../src/journal/line.ts";
import { lineOffsets, type OrderProblem, verifyJournal, verifyOrder } from "../../../src/journal/order.ts";
import { choosePrunable, parseAge } from "../../../src/commands/prune.ts";

const HEADER: Event = { type: "header", format: 1, writer: "wf test" };
const STARTED: AppendableEvent = {
  type: "run_started", workflow: "ci", file: "/ci.toml", file_sha256: "f", tags: [],
  nodes: [{ id: "a", task: "a", deps: [], def_sha256: "h" }, { id: "b", task: "b", deps: ["a"], def_sha256: "h" }],
  mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
};
const running: AppendableEvent = { type: "run_status", status: "running" };
const start = (task: string, attempt = 1): AppendableEvent => ({
  type: "task_started", task, attempt, max_attempts: 3, cmd: "x", stdout_log: "o", stderr_log: "e",
});
const finish = (task: string, attempt = 1, state: "succeeded" | "failed" = "succeeded"): AppendableEvent => ({
  type: "task_finished", task, attempt, state, exit_code: state === "succeeded" ? 0 : 1, signal: null, timed_out: false,
  duration_ms: 1, will_retry: false, ignored: false,
});
const status = (s: "success" | "failed" | "resuming" | "running"): AppendableEvent => ({ type: "run_status", status: s });

function bytes(...events: Event[]): Uint8Array {
  const text = [HEADER, ...events].map((e, seq) => encodeLine({ seq, ts: "2025-01-01T00:00:00.000Z", run: "r1" }, e)).join("");
  return new TextEncoder().encode(text);
}

describe("verifyJournal()", () => {
  test("a complete run, a failed and resumed run, and a crashed and resumed run are valid", () => {
    assert.deepEqual(verifyJournal(bytes(STARTED, running, start("a"), finish("a"), start("b"), finish("b"), status("success"))), { kind: "clean", lines: 8 });
    const resumed = verifyJournal(bytes(
      STARTED, running, start("a"), finish("a", 1, "failed"), status("failed"),
      { type: "lock_taken_over", previous_pid: 2, previous_host: "h" }, status("resuming"),
      start("a", 2), finish("a", 2), start("b"), finish("b"), status("success"),
    ));
    assert.equal(resumed.kind, "clean");
    const crashed = verifyJournal(bytes(STARTED, running, start("a"), status("resuming"), start("a", 2), finish("a", 2), status("success")));
    assert.equal(crashed.kind, "clean");
  });

  test("a task that failed before it could start needs no task_started", () => {
    const v = verifyJournal(bytes(STARTED, running, { ...finish("a", 1, "failed"), exit_code: null, error: "variable x" } as AppendableEvent, status("failed")));
    assert.equal(v.kind, "clean");
  });

  const cases: [string, Event[], number, string][] = [
    ["a task event before run_started", [start("a")], 2, `a "task_started" line before run_started`],
    ["a task event before running", [STARTED, start("a")], 3, `a "task_started" line before the status "running"`],
    ["a finish without a start", [STARTED, running, finish("a")], 4, `task_finished for "a" attempt 1, which has not started`],
    ["a finish of another attempt", [STARTED, running, start("a"), finish("a", 2)], 5, `task_finished for "a" attempt 2, which has not started`],
    ["a second start while running", [STARTED, running, start("a"), start("a", 2)], 5, `task_started for "a" attempt 2 while attempt 1 has not finished`],
    ["an attempt number going back", [STARTED, running, start("a", 2), finish("a", 2), start("a", 1)], 6, `task_started for "a" attempt 1 after attempt 2`],
    ["a task event after the final status", [STARTED, running, status("success"), start("a")], 5, `a "task_started" line after the final status "success" (only a resume may follow)`],
    ["two final statuses", [STARTED, running, status("success"), status("failed")], 5, `a second final status "failed" after "success" (only a resume may follow)`],
    ["a second run_started", [STARTED, running, STARTED], 4, "a second run_started line"],
    ["cancelled while running", [STARTED, running, start("a"), { type: "task_cancelled", task: "a", reason: "x" }], 5, `task_cancelled for "a" while its attempt 1 is running`],
  ];
  for (const [name, events, line, reason] of cases) {
    test(`out of order: ${name} (line ${line})`, () => {
      const b = bytes(...events);
      const v = verifyJournal(b);
      assert.equal(v.kind, "corrupt");
      assert.ok(v.kind === "corrupt");
      assert.equal(v.line, line);
      assert.equal(v.reason, reason);
      assert.equal(v.offset, lineOffsets(b)[line - 1]);
    });
  }

  test("a torn tail is reported with the intact length; a CRC mismatch in the middle is corrupt", () => {
    const b = bytes(STARTED, running, status("success"));
    const torn = verifyJournal(b.subarray(0, b.length - 5));
    assert.equal(torn.kind, "torn");
    const text = new TextDecoder().decode(b).replace('"running"', '"runninG"');
    const bad = verifyJournal(new TextEncoder().encode(text));
    assert.ok(bad.kind === "corrupt");
    assert.equal(bad.line, 3);
    assert.match(bad.reason, /CRC mismatch/);
  });
});

describe("prune helpers", () => {
  test("parseAge() takes days and weeks before a Go duration", () => {
    assert.equal(parseAge("30d"), 30 * 86_400_000);
    assert.equal(parseAge("2w"), 14 * 86_400_000);
    assert.equal(parseAge("1d12h"), 36 * 3_600_000);
    assert.equal(parseAge("90m"), 90 * 60_000);
    for (const bad of ["", "d", "30", "-1d", "1x"]) assert.equal(parseAge(bad), undefined, bad);
  });

  test("choosePrunable() keeps the newest N and anything younger than the age", () => {
    const now = 100 * 86_400_000;
    const runs = [99, 90, 50, 10].map((day) => ({ started: day * 86_400_000, day }));
    const days = (opts: Parameters<typeof choosePrunable>[1]) => choosePrunable(runs, opts, now).map((r) => r.day);
    assert.deepEqual(days({ keep: 1, dryRun: false }), [90, 50, 10]);
    assert.deepEqual(days({ olderThanMs: 30 * 86_400_000, dryRun: false }), [50, 10]);
    assert.deepEqual(days({ olderThanMs: 30 * 86_400_000, keep: 3, dryRun: false }), [10]);
  });
});

test("verifyJournal() refuses a journal with no intact header, as every other command does", () => {
  const reason = "it has no intact header line: the run was cut off while being created";
  assert.deepEqual(verifyJournal(new Uint8Array(0)), { kind: "corrupt", lines: 0, line: 1, offset: 0, reason });
  assert.deepEqual(verifyJournal(new TextEncoder().encode('{"v":1,"seq":0,')), { kind: "corrupt", lines: 0, line: 1, offset: 0, reason });
});

/** verifyOrder as it was written with one map of open attempts and one of last attempts: the reference for the test below. */
function referenceOrder(records: readonly { type: string; task?: string; attempt?: number; state?: string; exit_code?: number | null; status?: string }[]): OrderProblem | undefined {
  const open = new Map<string, number>();
  const lastAttempt = new Map<string, number>();
  for (let i = 2; i < records.length; i++) {
    const r = records[i]!;
    const task = r.task ?? "";
    const attempt = r.attempt ?? 0;
    let reason: string | undefined;
    if (r.type === "run_status") {
      if (r.status === "resuming") open.clear();
      continue;
    }
    if (r.type === "task_started") {
      const running = open.get(task);
      const prev = lastAttempt.get(task) ?? 0;
      if (running !== undefined) reason = `task_started for "${task}" attempt ${attempt} while attempt ${running} has not finished`;
      else if (attempt <= prev) reason = `task_started for "${task}" attempt ${attempt} after attempt ${prev}`;
      else {
        open.set(task, attempt);
        lastAttempt.set(task, attempt);
      }
    } else if (r.type === "task_spawned") {
      if (open.get(task) !== attempt) reason = `task_spawned for "${task}" attempt ${attempt}, which has not started`;
    } else if (r.type === "task_finished") {
      const prev = lastAttempt.get(task) ?? 0;
      if (open.get(task) === attempt) open.delete(task);
      else if (r.state === "failed" && r.exit_code === null && attempt > prev && !open.has(task)) lastAttempt.set(task, attempt);
      else reason = `task_finished for "${task}" attempt ${attempt}, which has not started`;
    } else if (r.type === "task_skipped" && open.has(task)) {
      reason = `task_skipped for "${task}" while its attempt ${open.get(task)} is running`;
    }
    if (reason !== undefined) return { index: i, reason };
  }
  return undefined;
}

test("verifyOrder() gives the first problem of random attempt lines of a few tasks as two maps of attempts did", () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const tasks = ["a", "b", "c"];
  let problems = 0;
  for (let round = 0; round < 3000; round++) {
    const events: Event[] = [HEADER, STARTED, running];
    // Mostly what a writer would write (the next attempt, then its lines), sometimes a wrong attempt number.
    const open = new Map<string, number>();
    const last = new Map<string, number>();
    for (let k = 0; k < 12; k++) {
      const task = tasks[rand(3)]!;
      const right = open.get(task) ?? (last.get(task) ?? 0) + 1;
      const attempt = rand(12) === 0 ? 1 + rand(3) : right;
      // Usually a line that fits the task's state; one time in ten any kind of line.
      const kind = rand(10) === 0 ? rand(6) : open.has(task) ? 1 + rand(2) : [0, 0, 3, 4, 5][rand(5)]!;
      if (kind === 0) {
        events.push(start(task, attempt));
        open.set(task, attempt);
        last.set(task, attempt);
      } else if (kind === 1) events.push({ type: "task_spawned", task, attempt, pid: 1 });
      else if (kind === 2) {
        events.push(finish(task, attempt));
        open.delete(task);
      } else if (kind === 3) {
        events.push({ ...finish(task, attempt, "failed"), exit_code: null } as AppendableEvent);
        last.set(task, Math.max(attempt, last.get(task) ?? 0));
      } else if (kind === 4) events.push({ type: "task_skipped", task, reason: "r" });
      else {
        events.push(status("resuming"));
        open.clear();
      }
    }
    const records = events.map((e, seq) => ({ ...e, v: 1, seq, ts: "2025-01-01T00:00:00.000Z", run: "r1", crc: "0" }) as JournalRecord);
    const expected = referenceOrder(records);
    assert.deepEqual(verifyOrder(records), expected, JSON.stringify(events.slice(3)));
    if (expected !== undefined) problems++;
  }
  // Both kinds of journals were met.
  assert.ok(problems > 100 && problems < 2900, String(problems));
});
