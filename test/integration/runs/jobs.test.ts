/**
 * What a resume makes of the jobs a dead wf left (runs/jobs.ts), on a run
 * folder in a temporary directory, with a fake process table: adopt a status
 * file or the job's shell's exit line, wait for a job that is the same
 * process, and otherwise say whether the command never ran or its outcome is unknown.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Event, JournalRecord } from "../../../src/journal/events.ts";
import { foldJournal, type RunState } from "../../../src/journal/fold.ts";
import { formatStatus, type JobStatus, SPAWN_LOG } from "../../../src/platform/job.ts";
import type { ProcessTable } from "../../../src/platform/process.ts";
import { findJobs, settleLaunchers } from "../../../src/runs/jobs.ts";

const BOOT = "b00t";

/** A table in which only `alive` (pid -> start time) exist. */
function table(alive: Record<number, number>): ProcessTable {
  return {
    isAlive: (pid) => Object.hasOwn(alive, pid),
    procStart: (pid) => alive[pid] ?? null,
    bootId: () => BOOT,
  };
}

/** The state folded from a run of `tasks` whose wf died after `steps` (task_started, task_spawned, ...). */
function fold(tasks: readonly string[], steps: readonly Event[]): RunState {
  const events: Event[] = [
    { type: "header", format: 1, writer: "t" },
    {
      type: "run_started", workflow: "w", file: "/w.toml", file_sha256: "x", tags: [], mode: "parallel", max_parallel: 4,
      var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
      nodes: tasks.map((id) => ({ id, task: id, deps: [], def_sha256: "h" })),
    },
    { type: "run_status", status: "running" },
    ...steps,
  ];
  const records = events.map((e, seq) => ({ ...e, v: 1, seq, ts: "2026-01-01T00:00:00.000Z", run: "r", crc: "0" }) as JournalRecord);
  const folded = foldJournal(records);
  assert.ok(folded.ok);
  return folded.value;
}

/** A run of tasks a, b, c, d whose wf died after starting them all; `spawned` says which journaled a pid (with its start time). */
function state(spawned: Record<string, [number, number]>): RunState {
  const steps: Event[] = [];
  for (const task of ["a", "b", "c", "d"]) {
    steps.push({ type: "task_started", task, attempt: 1, max_attempts: 1, cmd: task, stdout_log: `logs/${task}.1.stdout.log`, stderr_log: `logs/${task}.1.stderr.log`, status_file: `logs/${task}.1.status` });
    const pid = spawned[task];
    if (pid !== undefined) steps.push({ type: "task_spawned", task, attempt: 1, pid: pid[0], proc_start: pid[1], boot_id: BOOT });
  }
  return fold(["a", "b", "c", "d"], steps);
}

const EXITED: JobStatus = {
  state: "exited", started: "2026-01-01T00:00:00.000Z", ended: "2026-01-01T00:00:02.000Z", pid: 11, proc_start: 1, boot_id: BOOT,
  exit_code: 0, signal: null, timed_out: false, duration_ms: 2000, log_truncated: false, stdout_tail: "v\n", stderr_tail: "",
};

describe("findJobs", () => {
  test("adopts a status file, waits for the same process, and calls a reused pid's outcome unknown", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await mkdir(join(dir, "logs"));
      await writeFile(join(dir, "logs", "a.1.status"), formatStatus(EXITED));
      // d's wf died before it journaled the pid: the spawn log has it.
      await writeFile(join(dir, SPAWN_LOG), `${JSON.stringify({ status: "d.1.status", started: "2026-01-01T00:00:00.000Z", pid: 14, proc_start: 4, boot_id: BOOT, deadline: 99 })}\n{"torn`);
      const st = state({ a: [11, 1], b: [12, 2], c: [13, 3] });
      // b runs; c's pid now belongs to another process (another start time); d runs.
      const found = findJobs(st, dir, table({ 12: 2, 13: 999, 14: 4 }));
      assert.deepEqual(found.map((j) => [j.task, j.kind]), [["a", "adopt"], ["b", "wait"], ["c", "unknown"], ["d", "wait"]]);
      const d = found[3];
      assert.ok(d?.kind === "wait");
      assert.deepEqual([d.identity.pid, d.deadline], [14, 99]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a job whose process ended is waited for while a launcher of the run lives: its status file may be on the way", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await writeFile(join(dir, SPAWN_LOG), `${JSON.stringify({ launcher: 50, proc_start: 5, boot_id: BOOT, started: "2026-01-01T00:00:00.000Z" })}\n`);
      const st = state({ b: [12, 2] });
      // a, c and d have no pid anywhere: their commands never ran, whatever the launcher does.
      assert.deepEqual(findJobs(st, dir, table({ 50: 5 })).map((j) => j.kind), ["never-ran", "wait", "never-ran", "never-ran"]);
      assert.deepEqual(findJobs(st, dir, table({})).map((j) => j.kind), ["never-ran", "unknown", "never-ran", "never-ran"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the job's shell's exit line is adopted when there is no status file; its not-run line means the command never ran", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await mkdir(join(dir, "logs"));
      await writeFile(join(dir, "logs", "a.1.stdout.log"), "first\nvalue-a\n");
      await writeFile(
        join(dir, SPAWN_LOG),
        ['{"exited":"a.1.status","code":0}', '{"exited":"b.1.status","code":137}', '{"exited":"c.1.status","not_run":true}', ""].join("\n"),
      );
      const found = findJobs(state({ a: [11, 1], b: [12, 2], c: [13, 3] }), dir, table({}));
      assert.deepEqual(found.map((j) => [j.task, j.kind]), [["a", "adopt"], ["b", "adopt"], ["c", "never-ran"], ["d", "never-ran"]]);
      const [a, b] = found;
      assert.ok(a?.kind === "adopt" && b?.kind === "adopt");
      assert.deepEqual([a.source, a.status.exit_code, a.status.signal, a.status.stdout_tail], ["shell", 0, null, "first\nvalue-a\n"]);
      assert.deepEqual([b.status.exit_code, b.status.signal], [null, "SIGKILL"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a pid journaled without its start time is never waited on, even when a process has that pid", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await writeFile(join(dir, SPAWN_LOG), `${JSON.stringify({ status: "a.1.status", started: "2026-01-01T00:00:00.000Z", pid: 11, proc_start: null, boot_id: null })}\n`);
      const found = findJobs(state({}), dir, table({ 11: 1 }));
      assert.equal(found[0]?.kind, "unknown");
      assert.match(found[0]?.kind === "unknown" ? found[0].why : "", /^pid 11 was recorded without its start time and boot id/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a status file that names another run, node or attempt is not adopted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await mkdir(join(dir, "logs"));
      await writeFile(join(dir, "logs", "a.1.status"), formatStatus({ ...EXITED, run: "r", node: "a", attempt: 1 }));
      await writeFile(join(dir, "logs", "b.1.status"), formatStatus({ ...EXITED, run: "r", node: "a", attempt: 1 }));
      await writeFile(join(dir, "logs", "c.1.status"), formatStatus({ ...EXITED, run: "other", node: "c", attempt: 1 }));
      const found = findJobs(state({ a: [11, 1], b: [12, 2], c: [13, 3] }), dir, table({}));
      assert.deepEqual(found.map((j) => [j.task, j.kind]), [["a", "adopt"], ["b", "unknown"], ["c", "unknown"], ["d", "never-ran"]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a job that ends while it is looked at is adopted: its exit line is read again after the process table", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await writeFile(join(dir, SPAWN_LOG), "");
      // b's job is alive when the spawn log is first read, and gone, its exit line written, when the table is asked.
      const ending: ProcessTable = {
        isAlive: (pid) => {
          if (pid === 12) writeFileSync(join(dir, SPAWN_LOG), '{"exited":"b.1.status","code":3}\n');
          return false;
        },
        procStart: () => null,
        bootId: () => BOOT,
      };
      const found = findJobs(state({ b: [12, 2] }), dir, ending);
      const b = found[1];
      assert.deepEqual(found.map((j) => j.kind), ["never-ran", "adopt", "never-ran", "never-ran"]);
      assert.ok(b?.kind === "adopt");
      assert.deepEqual([b.source, b.status.exit_code], ["shell", 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a Slurm job that ends between the read of its status file and squeue's answer is adopted, not called gone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      await mkdir(join(dir, "logs"));
      const run = fold(["a"], [
        { type: "task_started", task: "a", attempt: 1, max_attempts: 1, cmd: "a", stdout_log: "logs/a.1.stdout.log", stderr_log: "logs/a.1.stderr.log", status_file: "logs/a.1.status", executor: "slurm" },
        { type: "task_spawned", task: "a", attempt: 1, job_id: "77" },
      ]);
      const asked: string[][] = [];
      const squeue = (ids: readonly string[]) => {
        asked.push([...ids]);
        writeFileSync(join(dir, "logs", "a.1.status"), formatStatus({ ...EXITED, run: "r", node: "a", attempt: 1 }));
        return new Map([["77", "COMPLETED"]]);
      };
      const found = findJobs(run, dir, table({}), squeue);
      assert.deepEqual(asked, [["77"]], "squeue was asked, the status file being absent at first");
      assert.deepEqual(found.map((j) => [j.task, j.kind]), [["a", "adopt"]]);
      assert.equal(found[0]?.kind === "adopt" ? found[0].status.exit_code : undefined, 0);
      // Without the file, the same answer is a job gone without a result.
      await rm(join(dir, "logs", "a.1.status"));
      const gone = findJobs(run, dir, table({}), () => new Map([["77", "COMPLETED"]]));
      assert.deepEqual(gone.map((j) => j.kind), ["gone"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("settleLaunchers() returns once every live launcher has settled, and at once when none lives", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-jobs-"));
    try {
      const launcher = `${JSON.stringify({ launcher: 50, proc_start: 5, boot_id: BOOT, started: "2026-01-01T00:00:00.000Z" })}\n`;
      await writeFile(join(dir, SPAWN_LOG), launcher);
      await settleLaunchers(dir, table({})); // dead: nothing to wait for
      const settling = settleLaunchers(dir, table({ 50: 5 }));
      let settled = false;
      void settling.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(settled, false, "it waits for the settled line");
      await writeFile(join(dir, SPAWN_LOG), `${launcher}{"settled":50}\n`);
      await settling;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
