import assert from "node:assert/strict";
import { test } from "node:test";
import type { AppendableEvent, Event } from "../../../src/journal/events.ts";
import { encodeLine } from "../../../src/journal/line.ts";
import { checkJournal, verifyJournal } from "../../../src/journal/order.ts";
import { foldRecords } from "../../../src/runs/open.ts";

const HEADER: Event = { type: "header", format: 1, writer: "wf test" };
const STARTED: AppendableEvent = {
  type: "run_started", workflow: "ci", file: "/ci.toml", file_sha256: "f", tags: [],
  nodes: [{ id: "a", task: "a", deps: [], def_sha256: "h" }],
  mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
};
const running: AppendableEvent = { type: "run_status", status: "running" };
const start: AppendableEvent = {
  type: "task_started", task: "a", attempt: 1, max_attempts: 1, cmd: "x", stdout_log: "logs/a.1.stdout.log", stderr_log: "logs/a.1.stderr.log",
  status_file: "logs/a.1.status", executor: "slurm",
};

function bytes(...events: Event[]): Uint8Array {
  const text = [HEADER, ...events].map((e, seq) => encodeLine({ seq, ts: "2025-01-01T00:00:00.000Z", run: "r1" }, e)).join("");
  return new TextEncoder().encode(text);
}

test("a Slurm attempt: task_started with executor slurm, task_spawned with a job id, then task_reattached by job id, is in order and folds to the job id", () => {
  const b = bytes(STARTED, running, start, { type: "task_spawned", task: "a", attempt: 1, job_id: "42" }, { type: "run_status", status: "resuming" },
    { type: "task_reattached", task: "a", attempt: 1, job_id: "42" });
  assert.equal(verifyJournal(b).kind, "clean");
  const folded = foldRecords(checkJournal(b).records, false);
  assert.ok(folded.ok);
  const attempt = folded.value.tasks.get("a")?.attempts[0];
  assert.equal(attempt?.executor, "slurm");
  assert.equal(attempt?.jobId, "42");
  assert.equal(attempt?.pid, undefined);
  assert.equal(attempt?.reattached, true);
});

test("task_spawned names its job by a pid or by a job id, exactly one of them", () => {
  for (const [spawned, reason] of [
    [{ type: "task_spawned", task: "a", attempt: 1 }, `task_spawned for "a" attempt 1 with neither a pid nor a job id`],
    [{ type: "task_spawned", task: "a", attempt: 1, pid: 7, job_id: "42" }, `task_spawned for "a" attempt 1 with both a pid and a job id`],
  ] as const) {
    const v = verifyJournal(bytes(STARTED, running, start, spawned as AppendableEvent));
    assert.ok(v.kind === "corrupt", JSON.stringify(v));
    assert.equal(v.reason, reason);
    assert.equal(v.line, 5);
  }
});
