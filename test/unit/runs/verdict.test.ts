/**
 * judgeJob(): what became of a job, for every combination of what a fault can
 * leave behind (status file, the job's shell's line, a recorded identity, a
 * live process, a launcher still writing), and for no evidence at all.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { ExitRecord, JobIdentity, JobStatus } from "../../../src/platform/job.ts";
import { shellStatus } from "../../../src/platform/job.ts";
import { type JobEvidence, judgeJob } from "../../../src/runs/verdict.ts";

const STATUS: JobStatus = {
  state: "exited", run: "r", node: "a", attempt: 1, started: "2026-01-01T00:00:00.000Z", ended: "2026-01-01T00:00:01.000Z",
  exit_code: 0, signal: null, timed_out: false, duration_ms: 1000, log_truncated: false, stdout_tail: "", stderr_tail: "",
};
const ME: JobIdentity = { pid: 42, proc_start: 7, boot_id: "b" };
const NO_START: JobIdentity = { pid: 42, proc_start: null, boot_id: "b" };
const NO_BOOT: JobIdentity = { pid: 42, proc_start: 7, boot_id: null };

const judge = (e: Partial<JobEvidence>) => judgeJob({ alive: false, writerBusy: false, ...e }).kind;

test("judgeJob() takes the launcher's status file over everything else", () => {
  for (const alive of [true, false]) {
    const v = judgeJob({ status: STATUS, exit: { exited: "a.1.status", code: 3 }, identity: ME, alive, writerBusy: true });
    assert.deepEqual(v, { kind: "result", source: "launcher", status: STATUS });
  }
});

test("judgeJob() reads the job's shell's exit line when its launcher wrote no status file", () => {
  assert.deepEqual(judgeJob({ exit: { exited: "a.1.status", code: 137 }, identity: ME, alive: false, writerBusy: false }), { kind: "result", source: "shell", code: 137 });
  assert.equal(judge({ exit: { exited: "a.1.status", not_run: true }, identity: ME }), "never-ran");
});

test("judgeJob() says the command never ran when no process of it was recorded", () => {
  assert.equal(judge({}), "never-ran");
  assert.equal(judge({ writerBusy: true }), "never-ran");
});

test("judgeJob() never trusts a pid without its start time and boot id, alive or not", () => {
  for (const identity of [NO_START, NO_BOOT]) {
    for (const alive of [true, false]) assert.equal(judge({ identity, alive }), "unknown");
  }
});

test("judgeJob() waits for a live job, and for a launcher still writing a gone job's status file", () => {
  assert.equal(judge({ identity: ME, alive: true }), "running");
  assert.equal(judge({ identity: ME, writerBusy: true }), "pending");
  assert.equal(judge({ identity: ME }), "unknown");
});

test("judgeJob() returns a result only with a status file or an exit line, and never says running for an untrusted pid", () => {
  const identity = fc.option(fc.constantFrom(ME, NO_START, NO_BOOT), { nil: undefined });
  const exit = fc.option(fc.oneof(fc.constant<ExitRecord>({ exited: "a.1.status", not_run: true }), fc.integer({ min: 0, max: 255 }).map((code): ExitRecord => ({ exited: "a.1.status", code }))), { nil: undefined });
  fc.assert(
    fc.property(fc.boolean(), exit, identity, fc.boolean(), fc.boolean(), (hasStatus, e, id, alive, writerBusy) => {
      const v = judgeJob({ ...(hasStatus ? { status: STATUS } : {}), ...(e === undefined ? {} : { exit: e }), ...(id === undefined ? {} : { identity: id }), alive, writerBusy });
      if (v.kind === "result") assert.ok(hasStatus || e !== undefined);
      if (v.kind === "running") assert.ok(id === ME && alive);
      if (id === undefined && !hasStatus && e === undefined) assert.equal(v.kind, "never-ran");
    }),
  );
});

test("shellStatus() reads 128 + N as signal N only for signals that end a process", () => {
  assert.deepEqual(shellStatus(0), { exit_code: 0, signal: null });
  assert.deepEqual(shellStatus(128), { exit_code: 128, signal: null });
  assert.deepEqual(shellStatus(137), { exit_code: null, signal: "SIGKILL" });
  assert.deepEqual(shellStatus(143), { exit_code: null, signal: "SIGTERM" });
  assert.deepEqual(shellStatus(145), { exit_code: 145, signal: null }); // 17: SIGCHLD is ignored by default
  assert.deepEqual(shellStatus(147), { exit_code: 147, signal: null }); // 19: SIGSTOP stops, it does not end
  assert.deepEqual(shellStatus(255), { exit_code: 255, signal: null });
});
