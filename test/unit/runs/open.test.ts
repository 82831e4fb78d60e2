import assert from "node:assert/strict";
import { test } from "node:test";
import type { Event, JournalRecord } from "../../../src/journal/events.ts";
import { foldJournalBytes, interpretJournal } from "../../../src/runs/open.ts";
import { bytesOf, lines } from "../journal/helpers.ts";

const started: Event = {
  type: "run_started", workflow: "ci", file: "/ci.toml", file_sha256: "f", tags: [],
  nodes: [{ id: "lint", task: "lint", deps: [], def_sha256: "h" }],
  mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
};
const header: Event = { type: "header", format: 1, writer: "wf" };
const lintRun: Event[] = [
  header,
  { type: "recovered", dropped_bytes: 3, saved_to: "journal.torn" },
  started,
  { type: "run_status", status: "running" },
  { type: "task_started", task: "lint", attempt: 1, max_attempts: 2, cmd: "lint", stdout_log: "o", stderr_log: "e" },
  { type: "task_finished", task: "lint", attempt: 1, state: "failed", exit_code: 1, signal: null, timed_out: false, duration_ms: 3, will_retry: true, ignored: false, error: "exit status 1" },
  { type: "task_started", task: "lint", attempt: 2, max_attempts: 2, cmd: "lint", stdout_log: "o", stderr_log: "e" },
];

test("foldJournalBytes() gives interpretJournal's answer without keeping records, live or not, clean or torn", () => {
  const texts = [lines(lintRun).join(""), lines(lintRun).join("") + "{\"v\":1,\"seq\""];
  for (const text of texts) {
    for (const live of [false, true]) {
      const bytes = bytesOf(text);
      const kept: JournalRecord[] = [];
      const lean = foldJournalBytes(bytes, live, (r) => kept.push(r));
      const full = interpretJournal(bytes, live);
      assert.ok(lean.ok && full.ok);
      assert.deepEqual(lean.value.state, full.value.state);
      assert.deepEqual(kept, full.value.classified.records);
      assert.equal(lean.value.verdict.lines, full.value.classified.records.length);
      assert.equal(lean.value.verdict.kind, full.value.classified.kind);
    }
  }
});

test("foldJournalBytes() refuses what interpretJournal refuses, with the same problem", () => {
  const texts = [
    "",
    lines([header]).join(""),
    lines([header, { type: "run_status", status: "running" }]).join(""),
    lines([header, started, { type: "run_status", status: "running" }, { type: "task_spawned", task: "lint", attempt: 1, pid: 5 }]).join(""),
  ];
  for (const text of texts) {
    const bytes = bytesOf(text);
    const lean = foldJournalBytes(bytes, false);
    const full = interpretJournal(bytes, false);
    assert.equal(lean.ok, false);
    assert.equal(full.ok, false);
    if (!lean.ok && !full.ok) assert.deepEqual(lean.error, full.error);
  }
});
