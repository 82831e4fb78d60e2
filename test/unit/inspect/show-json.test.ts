import assert from "node:assert/strict";
import { test } from "node:test";
import type { Event } from "../../../src/journal/events.ts";
import { runStateJson, writeRunStateJson } from "../../../src/commands/show.ts";
import { foldJournalBytes, type RunSummary } from "../../../src/runs/open.ts";
import { bytesOf, lines } from "../journal/helpers.ts";

/** A failed run of `tasks` tasks ("quoted\ntask" names included), each with one attempt. */
function summary(tasks: number): RunSummary {
  const ids = Array.from({ length: tasks }, (_, i) => `t"${i}\n☃`);
  const events: Event[] = [
    { type: "header", format: 1, writer: "wf" },
    {
      type: "run_started", workflow: "w", file: "/w.toml", file_sha256: "f", tags: ["a"],
      nodes: ids.map((id, i) => ({ id, task: id, deps: i === 0 ? [] : [ids[0]!], def_sha256: "h" })),
      mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    },
    { type: "run_status", status: "running" },
    ...ids.flatMap((task): Event[] => [
      { type: "task_started", task, attempt: 1, max_attempts: 1, cmd: "c", stdout_log: "o", stderr_log: "e" },
      { type: "task_finished", task, attempt: 1, state: "failed", exit_code: 1, signal: null, timed_out: false, duration_ms: 2, will_retry: false, ignored: false, error: "boom\n  \"x\"" },
    ]),
    { type: "var_registered", name: "v", value: "1", task: ids[0] ?? "t" },
    { type: "run_status", status: "failed", reason: "some tasks failed" },
  ];
  const read = foldJournalBytes(bytesOf(lines(events).join("")), false);
  assert.ok(read.ok);
  return { id: "r", dir: "d", journalPath: "j", lines: read.value.verdict.lines, tornBytes: 0, live: false, state: read.value.state };
}

test("writeRunStateJson() writes the bytes of JSON.stringify(runStateJson(run), null, 2), with 0, 1 and 1,100 tasks", () => {
  for (const n of [0, 1, 1100]) {
    const run = summary(n);
    const pieces: string[] = [];
    writeRunStateJson(run, (s) => pieces.push(s));
    assert.equal(pieces.join(""), `${JSON.stringify(runStateJson(run), null, 2)}\n`, `${n} tasks`);
  }
});
