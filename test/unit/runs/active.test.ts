import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import type { Event } from "../../../src/journal/events.ts";
import { activeRunOf, busyFailure, intactRecords, localProbe, runActivity, type TaskProbe } from "../../../src/runs/active.ts";
import { indexLine } from "../../../src/runs/index.ts";
import { indexPath, runPaths } from "../../../src/runs/paths.ts";
import { lines } from "../journal/helpers.ts";

const RUN = "7fQ2kLx9ab";
/** No process has this pid: above any pid_max. */
const DEAD_PID = 999_999_999;
const TASK_PID = 5120;

function journal(workflow: string, run = RUN): string {
  const events: Event[] = [
    { type: "header", format: 1, writer: "wf" },
    {
      type: "run_started", workflow, file: "/w.toml", file_sha256: "f", tags: [],
      nodes: [{ id: "load", task: "load", deps: [], def_sha256: "h" }],
      mode: "sequential", max_parallel: 1, var_names: [], host: localProbe.host, pid: DEAD_PID, wf_version: "0", runtime: "node",
    },
    { type: "run_status", status: "running" },
    { type: "task_started", task: "load", attempt: 1, max_attempts: 1, cmd: "load", stdout_log: "o", stderr_log: "e" },
    { type: "task_spawned", task: "load", attempt: 1, pid: TASK_PID },
  ];
  return lines(events, run).join("");
}

function lockOf(pid: number, host = localProbe.host): string {
  return `${JSON.stringify({ pid, host, started_at: "2025-01-01T00:00:00.000Z", proc_start: null, boot_id: null })}\n`;
}

/** A probe on this host that takes only `tasks` for tasks of their run. */
function probe(tasks: ReadonlySet<number>): TaskProbe & { asked: number[] } {
  const asked: number[] = [];
  return { host: localProbe.host, asked, isTaskOf: (pid) => (asked.push(pid), Promise.resolve(tasks.has(pid))) };
}

async function withState(fn: (state: string) => Promise<void>): Promise<void> {
  const state = await mkdtemp(join(tmpdir(), "wf-active-"));
  try {
    await fn(state);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}

async function makeRun(state: string, id: string, files: { journal?: string; lock?: string }): Promise<void> {
  const p = runPaths(state, id);
  await mkdir(p.logs, { recursive: true });
  if (files.journal !== undefined) await writeFile(p.journal, files.journal);
  if (files.lock !== undefined) await writeFile(p.lock, files.lock);
}

describe("runActivity()", () => {
  test("a run without a lock file is idle, and its journal is not read", async () => {
    await withState(async (state) => {
      const p = probe(new Set([TASK_PID]));
      await makeRun(state, RUN, { journal: "not a journal\n" });
      assert.deepEqual(await runActivity(state, RUN, p), { ok: true, value: undefined });
      assert.deepEqual(p.asked, []);
    });
  });

  test("a live lock holder makes the run active through its wf", async () => {
    await withState(async (state) => {
      await makeRun(state, RUN, { journal: journal("nightly"), lock: lockOf(process.pid) });
      assert.deepEqual(await runActivity(state, RUN, probe(new Set())), {
        ok: true, value: { kind: "wf", runId: RUN, pid: process.pid, host: localProbe.host },
      });
    });
  });

  test("a dead wf's interrupted task counts only while its pid runs with the run's WF_RUN_ID", async () => {
    await withState(async (state) => {
      await makeRun(state, RUN, { journal: journal("nightly"), lock: lockOf(DEAD_PID) });
      const alive = probe(new Set([TASK_PID]));
      assert.deepEqual(await runActivity(state, RUN, alive), {
        ok: true, value: { kind: "task", runId: RUN, task: "load", pid: TASK_PID, host: localProbe.host },
      });
      const gone = probe(new Set());
      assert.deepEqual(await runActivity(state, RUN, gone), { ok: true, value: undefined });
      assert.deepEqual(gone.asked, [TASK_PID]);
    });
  });

  test("a damaged journal still names the task started before the damage", async () => {
    await withState(async (state) => {
      await makeRun(state, RUN, { journal: `${journal("nightly")}{"v":1,"garbage"}\n${journal("nightly").split("\n")[2]}\n`, lock: lockOf(DEAD_PID) });
      assert.equal((await intactRecords(state, RUN)).length, 5);
      const r = await runActivity(state, RUN, probe(new Set([TASK_PID])));
      assert.deepEqual(r, { ok: true, value: { kind: "task", runId: RUN, task: "load", pid: TASK_PID, host: localProbe.host } });
    });
  });

  test("a lock that cannot be understood is never taken for idle", async () => {
    await withState(async (state) => {
      await makeRun(state, RUN, { journal: journal("nightly"), lock: "{not json" });
      assert.deepEqual(await runActivity(state, RUN, probe(new Set())), {
        ok: true, value: { kind: "lock-unreadable", runId: RUN, path: runPaths(state, RUN).lock },
      });
    });
  });
});

describe("activeRunOf()", () => {
  test("finds only runs of the workflow, through the index", async () => {
    await withState(async (state) => {
      const other = "Ab12Cd34Ef";
      await makeRun(state, other, { journal: journal("other", other), lock: lockOf(process.pid) });
      await makeRun(state, RUN, { journal: journal("nightly"), lock: lockOf(DEAD_PID) });
      const entry = (id: string, workflow: string) => indexLine({ id, workflow, tags: [], started: "2025-01-01T00:00:00.000Z" });
      await writeFile(indexPath(state), entry(RUN, "nightly") + entry(other, "other"));
      assert.deepEqual(await activeRunOf(state, "nightly", probe(new Set())), { ok: true, value: undefined });
      const busy = await activeRunOf(state, "nightly", probe(new Set([TASK_PID])));
      assert.ok(busy.ok && busy.value !== undefined);
      assert.deepEqual(busyFailure("nightly", busy.value), {
        kind: "workflow-busy", workflow: "nightly", runId: RUN, task: "load", pid: TASK_PID, host: localProbe.host,
      });
      const otherBusy = await activeRunOf(state, "other", probe(new Set()));
      assert.deepEqual(otherBusy, { ok: true, value: { kind: "wf", runId: other, pid: process.pid, host: localProbe.host } });
    });
  });
});
