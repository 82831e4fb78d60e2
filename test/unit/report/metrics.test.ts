/** The Prometheus text of a run: exact figures from the fold, every series present, label values escaped as the format says. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { AppendableEvent, JournalRecord } from "../../../src/journal/events.ts";
import { foldJournal, type RunState } from "../../../src/journal/fold.ts";
import { escapeLabelValue, renderMetrics } from "../../../src/report/metrics.ts";

const node = (id: string, deps: string[] = []) => ({ id, task: id, deps, def_sha256: "h" });
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A journal of `events`, each at the given milliseconds after T0 (the header and run_started at 0). */
function journal(workflow: string, run: string, ...events: [number, AppendableEvent][]): JournalRecord[] {
  const all: [number, unknown][] = [
    [0, { type: "header", format: 1, writer: "wf test" }],
    [0, {
      type: "run_started", workflow, file: "/ci.toml", file_sha256: "f", tags: [],
      nodes: [node("lint"), node("test", ["lint"]), node("build", ["test"]), node("docs")],
      mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    }],
    ...events,
  ];
  return all.map(([ms, e], seq) => ({ ...(e as object), v: 1, seq, ts: new Date(T0 + ms).toISOString(), run, crc: "0" }) as JournalRecord);
}

const started = (task: string, attempt = 1): AppendableEvent => ({
  type: "task_started", task, attempt, max_attempts: 1, cmd: task, stdout_log: "o", stderr_log: "e",
});
const finished = (task: string, state: "succeeded" | "failed", attempt = 1): AppendableEvent => ({
  type: "task_finished", task, attempt, state, exit_code: state === "succeeded" ? 0 : 1, signal: null, timed_out: false,
  duration_ms: 5, will_retry: false, ignored: false, ...(state === "failed" ? { error: "exit status 1" } : {}),
});
const status = (s: "running" | "resuming" | "success" | "failed" | "cancelled"): AppendableEvent => ({ type: "run_status", status: s });

function fold(records: JournalRecord[]): RunState {
  const r = foldJournal(records);
  assert.ok(r.ok);
  return r.value;
}

/** A failed run: lint succeeded, test failed, build cancelled, docs skipped. */
const failedRun = (workflow = "ci", run = "7fQ2kLx9ab") => journal(workflow, run,
  [1, status("running")],
  [2, started("lint")], [250, finished("lint", "succeeded")],
  [251, started("test")], [1500, finished("test", "failed")],
  [1501, { type: "task_cancelled", task: "build", reason: 'dependency "test" failed' }],
  [1502, { type: "task_skipped", task: "docs", reason: "condition is false" }],
  [1502, status("failed")],
);

/** A sample line as the format defines it, read back without the renderer's code: name, labels (unescaped), value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses an escaped label value that starts at `text[i]` (after its opening quote); returns it and the index after its closing quote. */
function readLabelValue(text: string, i: number): [string, number] {
  let value = "";
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return [value, i + 1];
    if (c === "\n") throw new Error("raw line feed in a label value");
    if (c !== "\\") {
      value += c;
      continue;
    }
    const next = text[++i];
    if (next === "\\") value += "\\";
    else if (next === '"') value += '"';
    else if (next === "n") value += "\n";
    else throw new Error(`bad escape \\${next}`);
  }
  throw new Error("unterminated label value");
}

/** The families of an exposition text: each name's HELP, TYPE and samples, in order; throws on anything the format does not allow. */
function parseExposition(text: string): Map<string, { help: string; type: string; samples: Sample[] }> {
  assert.ok(text.endsWith("\n"), "the text ends with a line feed");
  const families = new Map<string, { help: string; type: string; samples: Sample[] }>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const name = meta[2]!;
      const rest = meta[3]!;
      if (meta[1] === "HELP") {
        assert.ok(!families.has(name), `family ${name} appears twice`);
        families.set(name, { help: rest, type: "", samples: [] });
        current = name;
      } else {
        assert.equal(current, name, `TYPE of ${name} follows its HELP`);
        families.get(name)!.type = rest;
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{/.exec(line);
    assert.ok(m !== null, `not a sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    assert.equal(name, current, `sample of ${name} inside its family`);
    const labels: Record<string, string> = {};
    let i = m[0].length;
    for (;;) {
      const key = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      assert.ok(key !== null, `bad label at ${i} in ${JSON.stringify(line)}`);
      const [value, after] = readLabelValue(line, i + key[0].length);
      labels[key[1]!] = value;
      i = after;
      if (line[i] === ",") i++;
      else break;
    }
    assert.equal(line[i], "}");
    const value = line.slice(i + 1);
    assert.match(value, /^ -?\d+(\.\d+)?$/, `value of ${JSON.stringify(line)}`);
    families.get(name)!.samples.push({ name, labels, value: Number(value) });
  }
  return families;
}

/** `{ <label of interest>: value }` of one family. */
function by(families: ReturnType<typeof parseExposition>, name: string, label: string): Record<string, number> {
  const f = families.get(name);
  assert.ok(f !== undefined, `no ${name}`);
  return Object.fromEntries(f.samples.map((s) => [s.labels[label], s.value]));
}

describe("renderMetrics()", () => {
  test("a failed run: every family with HELP and TYPE gauge, the exact text", () => {
    const text = renderMetrics(fold(failedRun()), { live: false, now: 0 });
    assert.equal(text, [
      "# HELP wf_last_run_info The id of the workflow's last run to end, as the label run; always 1.",
      "# TYPE wf_last_run_info gauge",
      'wf_last_run_info{workflow="ci",run="7fQ2kLx9ab"} 1',
      "# HELP wf_last_run_status Whether the workflow's last run ended with this status (success, failed or cancelled): 1 for it, 0 for the others.",
      "# TYPE wf_last_run_status gauge",
      'wf_last_run_status{workflow="ci",status="success"} 0',
      'wf_last_run_status{workflow="ci",status="failed"} 1',
      'wf_last_run_status{workflow="ci",status="cancelled"} 0',
      "# HELP wf_last_run_start_timestamp_seconds When the workflow's last run started (its first execution, not a resume), in seconds since the Unix epoch.",
      "# TYPE wf_last_run_start_timestamp_seconds gauge",
      'wf_last_run_start_timestamp_seconds{workflow="ci"} 1767225600',
      "# HELP wf_last_run_end_timestamp_seconds When the workflow's last run journaled its final status, in seconds since the Unix epoch.",
      "# TYPE wf_last_run_end_timestamp_seconds gauge",
      'wf_last_run_end_timestamp_seconds{workflow="ci"} 1767225601.502',
      "# HELP wf_last_run_duration_seconds Wall time of the workflow's last run as wf show gives it: from its start to its final status, resumes and the time between them included.",
      "# TYPE wf_last_run_duration_seconds gauge",
      'wf_last_run_duration_seconds{workflow="ci"} 1.502',
      "# HELP wf_last_run_tasks Task nodes of the workflow's last run in each state at its end (forensic tasks not counted).",
      "# TYPE wf_last_run_tasks gauge",
      'wf_last_run_tasks{workflow="ci",state="pending"} 0',
      'wf_last_run_tasks{workflow="ci",state="running"} 0',
      'wf_last_run_tasks{workflow="ci",state="interrupted"} 0',
      'wf_last_run_tasks{workflow="ci",state="succeeded"} 1',
      'wf_last_run_tasks{workflow="ci",state="failed"} 1',
      'wf_last_run_tasks{workflow="ci",state="skipped"} 1',
      'wf_last_run_tasks{workflow="ci",state="cancelled"} 1',
      "# HELP wf_last_run_resumes How many times the workflow's last run was resumed.",
      "# TYPE wf_last_run_resumes gauge",
      'wf_last_run_resumes{workflow="ci"} 0',
      "",
    ].join("\n"));
    const families = parseExposition(text);
    for (const [name, f] of families) assert.equal(f.type, "gauge", name);
  });

  test("a resumed run that succeeded: the first start, the last end, the wall time between them and the resumes", () => {
    const records = [
      ...failedRun(),
      ...journal("ci", "7fQ2kLx9ab",
        [60_000, status("resuming")],
        [60_001, { type: "task_skipped", task: "lint", reason: "already succeeded" }],
        [60_002, started("test", 2)], [61_000, finished("test", "succeeded", 2)],
        [61_001, started("build")], [62_000, finished("build", "succeeded")],
        [62_001, started("docs")], [62_250, finished("docs", "succeeded")],
        [62_250, status("success")],
      ).slice(2),
    ].map((r, seq) => ({ ...r, seq }));
    const families = parseExposition(renderMetrics(fold(records), { live: false, now: 0 }));
    assert.deepEqual(by(families, "wf_last_run_status", "status"), { success: 1, failed: 0, cancelled: 0 });
    assert.deepEqual(by(families, "wf_last_run_tasks", "state"), {
      pending: 0, running: 0, interrupted: 0, succeeded: 4, failed: 0, skipped: 0, cancelled: 0,
    });
    assert.equal(families.get("wf_last_run_start_timestamp_seconds")!.samples[0]!.value, T0 / 1000);
    assert.equal(families.get("wf_last_run_end_timestamp_seconds")!.samples[0]!.value, (T0 + 62_250) / 1000);
    assert.equal(families.get("wf_last_run_duration_seconds")!.samples[0]!.value, 62.25);
    assert.equal(families.get("wf_last_run_resumes")!.samples[0]!.value, 1);
  });

  test("a cancelled run says cancelled; a run with no final status has every status 0 and no end time", () => {
    const cancelled = journal("ci", "r1", [1, status("running")], [2, started("lint")],
      [5, { type: "task_cancelled", task: "lint", reason: "interrupted by SIGTERM" }], [6, status("cancelled")]);
    assert.deepEqual(by(parseExposition(renderMetrics(fold(cancelled), { live: false, now: 0 })), "wf_last_run_status", "status"),
      { success: 0, failed: 0, cancelled: 1 });
    const unended = journal("ci", "r1", [1, status("running")], [2, started("lint")]);
    const families = parseExposition(renderMetrics(fold(unended), { live: false, now: 0 }));
    assert.deepEqual(by(families, "wf_last_run_status", "status"), { success: 0, failed: 0, cancelled: 0 });
    assert.equal(families.has("wf_last_run_end_timestamp_seconds"), false);
    assert.equal(by(families, "wf_last_run_tasks", "state")["interrupted"], 1);
  });

  test("every label value round-trips through the escaping, and the escaped text holds no line feed and no bare quote", () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      const escaped = escapeLabelValue(s);
      assert.ok(!escaped.includes("\n"));
      assert.deepEqual(readLabelValue(`${escaped}"`, 0), [s, escaped.length + 1]);
    }));
  });

  test("whatever the workflow's name and the run's id, the text parses back to them on every series", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (workflow, run) => {
      const families = parseExposition(renderMetrics(fold(failedRun(workflow, run)), { live: false, now: 0 }));
      assert.equal(families.size, 7);
      for (const f of families.values()) for (const s of f.samples) assert.equal(s.labels["workflow"], workflow);
      assert.deepEqual(families.get("wf_last_run_info")!.samples.map((s) => s.labels["run"]), [run]);
    }));
  });
});
