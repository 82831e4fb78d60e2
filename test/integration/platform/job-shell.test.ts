/**
 * The job's own shell (JOB_SHELL in launcher.ts), run for real with /bin/sh:
 * it runs the command only after "go", appends the exit status to the spawn
 * log, ends as the command did, and keeps the shell's "Terminated" note out
 * of the command's stderr.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSpawnLog, shellStatus } from "../../../src/platform/job.ts";
import { JOB_SHELL } from "../../../src/platform/launcher.ts";

/** Runs `cmd` under the job's shell; `go` false closes its pipe without a word, as a launcher that died would. */
async function jobShell(cmd: string, go = true): Promise<{ code: number | null; signal: string | null; log: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "wf-jobshell-"));
  try {
    const log = openSync(join(dir, "spawned.jsonl"), "a");
    const err = openSync(join(dir, "err.log"), "a");
    const child = spawn("/bin/sh", ["-c", JOB_SHELL, "wf-job", cmd, "t.1.status"], { stdio: ["ignore", "ignore", "ignore", log, "pipe", err], detached: true });
    closeSync(log);
    closeSync(err);
    const pipe = child.stdio[4] as NodeJS.WritableStream;
    pipe.on("error", () => {});
    pipe.end(go ? "go\n" : "");
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on("exit", (c, s) => r([c, s])));
    return { code, signal, log: await readFile(join(dir, "spawned.jsonl"), "utf8"), stderr: await readFile(join(dir, "err.log"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the job's shell records the exit status and ends with it; 128 + N ends it by signal N exactly where shellStatus() reads a signal", async () => {
  for (const n of [0, 1, 2, 126, 127, 128, 129, 130, 137, 143, 144, 145, 147, 152, 155, 156, 157, 159, 160, 200, 255]) {
    const r = await jobShell(`exit ${n}`);
    assert.deepEqual([...parseSpawnLog(r.log).exits.values()], [{ exited: "t.1.status", code: n }], `exit ${n}`);
    const read = shellStatus(n);
    assert.deepEqual([r.code, r.signal], [read.exit_code, read.signal], `exit ${n}`);
  }
});

test("the job's shell runs nothing without its launcher's go, and says so", async () => {
  const r = await jobShell("echo ran >&2", false);
  assert.equal(r.stderr, "");
  assert.deepEqual([...parseSpawnLog(r.log).exits.values()], [{ exited: "t.1.status", not_run: true }]);
});

test("a command killed by a signal: the signal reaches the launcher, and no Terminated note reaches the log", async () => {
  const r = await jobShell("echo before >&2; kill -TERM $$");
  assert.deepEqual([r.code, r.signal, r.stderr], [null, "SIGTERM", "before\n"]);
  assert.deepEqual([...parseSpawnLog(r.log).exits.values()], [{ exited: "t.1.status", code: 143 }]);
});
