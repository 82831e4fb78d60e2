import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JournalRecord } from "../../../src/journal/events.ts";
import { renderReport, ReportRecords, reportPieces } from "../../../src/report/html/render.ts";
import { foldRecords, type OpenedRun } from "../../../src/runs/open.ts";

const T0 = Date.UTC(2026, 0, 1);
const HOSTILE = `x[os=<img src=x onerror="alert(1)">]`;

function run(): OpenedRun {
  const events: unknown[] = [
    { type: "header", format: 1, writer: "t" },
    {
      type: "run_started", workflow: "<b>ci</b>", file: "/ci.toml", file_sha256: "f", tags: [],
      nodes: [{ id: HOSTILE, task: "x", deps: [], def_sha256: "h" }],
      mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    },
    { type: "run_status", status: "running" },
    { type: "task_started", task: HOSTILE, attempt: 1, max_attempts: 1, cmd: "echo '</pre><script>alert(2)</script>'", stdout_log: "logs/x.1.stdout.log", stderr_log: "logs/x.1.stderr.log" },
    { type: "task_finished", task: HOSTILE, attempt: 1, state: "failed", exit_code: 1, signal: null, timed_out: false, duration_ms: 1000, will_retry: false, ignored: false, error: "exit status 1: </pre><script>alert(3)</script>" },
    { type: "var_registered", name: "v", value: "<script>alert(4)</script>", task: HOSTILE },
    { type: "run_status", status: "failed", reason: "task failed: <script>alert(5)</script>" },
  ];
  const records = events.map((e, seq) => ({ ...(e as object), v: 1, seq, ts: new Date(T0 + seq * 1000).toISOString(), run: "r1", crc: "0" }) as JournalRecord);
  const state = foldRecords(records, false);
  assert.ok(state.ok);
  return { id: "r1", dir: "/state/runs/r1", journalPath: "/state/runs/r1/journal.jsonl", lines: records.length, tornBytes: 0, live: false, state: state.value, records };
}

describe("renderReport()", () => {
  test("every text from the journal is escaped: a task id, a command, an error, a value, a reason, the workflow's name", () => {
    const opened = run();
    const records = new ReportRecords();
    for (const r of opened.records) records.add(r);
    const html = renderReport(opened, records, { now: T0 + 60_000 });
    // The page's own script is the only one.
    assert.equal(html.match(/<script>/g)?.length, 1);
    assert.doesNotMatch(html, /<img|<b>ci/);
    for (const n of [1, 2, 3, 4, 5]) assert.doesNotMatch(html, new RegExp(`<script>alert\\(${n}\\)`));
    assert.ok(html.includes("&lt;script&gt;alert(3)&lt;/script&gt;"));
    assert.ok(html.includes(`data-name="x[os=&lt;img src=x onerror=&quot;alert(1)&quot;&gt;]"`));
  });

  test("the page comes in pieces (a timeline row, a task's details at a time) whose concatenation is the page", () => {
    const opened = run();
    const collect = () => {
      const records = new ReportRecords();
      for (const r of opened.records) records.add(r);
      return records;
    };
    const pieces = [...reportPieces(opened, collect(), { now: T0 + 60_000 })];
    assert.equal(pieces.join(""), renderReport(opened, collect(), { now: T0 + 60_000 }));
    assert.ok(pieces.some((p) => p.startsWith("\n<g class=\"row")), "a timeline row is a piece of its own");
    assert.ok(pieces.some((p) => p.startsWith("\n<details class=\"task\"")), "a task's details are a piece of their own");
  });
});
