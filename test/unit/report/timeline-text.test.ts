import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppendableEvent, JournalRecord } from "../../../src/journal/events.ts";
import { formatTimeline } from "../../../src/report/timeline-text.ts";
import { buildTimeline } from "../../../src/report/timeline.ts";

const T0 = Date.UTC(2026, 0, 1);

function records(...events: [number, unknown][]): JournalRecord[] {
  const all: [number, unknown][] = [
    [0, { type: "header", format: 1, writer: "t" }],
    [0, {
      type: "run_started", workflow: "ci", file: "/ci.toml", file_sha256: "f", tags: [],
      nodes: [{ id: "a-task-with-a-rather-long-name-indeed", task: "a", deps: [], def_sha256: "h" }, { id: "b", task: "b", deps: ["a-task-with-a-rather-long-name-indeed"], def_sha256: "h" }],
      mode: "parallel", max_parallel: 2, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    }],
    ...events,
  ];
  return all.map(([s, e], seq) => ({ ...(e as object), v: 1, seq, ts: new Date(T0 + s * 1000).toISOString(), run: "r", crc: "0" }) as JournalRecord);
}

const attempt = (task: string, n: number, state: "succeeded" | "failed"): AppendableEvent[] => [
  { type: "task_started", task, attempt: n, max_attempts: 2, cmd: "x", stdout_log: "o", stderr_log: "e" },
  { type: "task_finished", task, attempt: n, state, exit_code: state === "succeeded" ? 0 : 1, signal: null, timed_out: false, duration_ms: 1, will_retry: false, ignored: false },
];

describe("formatTimeline()", () => {
  const t = buildTimeline(records(
    [0, { type: "run_status", status: "running" }],
    [0, attempt("a-task-with-a-rather-long-name-indeed", 1, "failed")[0]], [30, attempt("a-task-with-a-rather-long-name-indeed", 1, "failed")[1]],
    [31, { type: "run_status", status: "failed" }],
    [3600, { type: "run_status", status: "resuming" }],
    [3600, attempt("a-task-with-a-rather-long-name-indeed", 2, "succeeded")[0]], [3700, attempt("a-task-with-a-rather-long-name-indeed", 2, "succeeded")[1]],
    [3700, attempt("b", 1, "succeeded")[0]], [3710, attempt("b", 1, "succeeded")[1]],
    [3710, { type: "run_status", status: "success" }],
  ), { live: false, now: 0 });

  test("every line fits the width, from 40 columns to 200", () => {
    for (let width = 40; width <= 200; width += 7) {
      const text = formatTimeline(t, { runId: "r", workflow: "ci", status: "success" }, width);
      for (const line of text.split("\n")) assert.ok([...line].length <= width, `${width}: ${line}`);
      assert.ok(text.includes("≈"), "the hour between the executions is drawn narrow");
    }
  });

  test("a width under 40 is taken as 40; a long name is cut with an ellipsis", () => {
    const text = formatTimeline(t, { runId: "r", workflow: "ci", status: "success" }, 10);
    assert.ok(Math.max(...text.split("\n").map((l) => [...l].length)) <= 40);
    assert.match(text, /\n\* a-task-with…/);
  });
});
