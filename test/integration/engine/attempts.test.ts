import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { AttemptRunner } from "../../../src/engine/attempts.ts";
import { LocalExecutor } from "../../../src/engine/executors/local.ts";
import type { AttemptSpec } from "../../../src/engine/spawner.ts";
import { parseSpawnLog, parseStatus } from "../../../src/platform/job.ts";

async function attempt(cmd: string, extra: Partial<AttemptSpec> = {}, abort = new AbortController().signal) {
  const dir = await mkdtemp(join(tmpdir(), "wf-exec-"));
  try {
    const spec: AttemptSpec = {
      cmd, cwd: dir, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, logCapBytes: 1 << 20,
      stdoutPath: join(dir, "out.log"), stderrPath: join(dir, "err.log"), statusPath: join(dir, "job.status"),
      owner: { run: "r", node: "job", attempt: 1 }, ...extra,
    };
    const spawner = new AttemptRunner(new LocalExecutor(join(dir, "spawned.jsonl"), { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }), () => {
      throw new Error("no Slurm here");
    });
    const result = await spawner.run(spec, abort);
    spawner.close();
    // Not acknowledged as journaled (no engine here): the launcher writes the status file once its input ends.
    let text = "";
    for (let waited = 0; text === "" && waited < 5000; waited += 20) {
      text = await readFile(spec.statusPath, "utf8").catch(() => "");
      if (text === "") await new Promise((r) => setTimeout(r, 20));
    }
    const status = parseStatus(text);
    const spawned = parseSpawnLog(await readFile(join(dir, "spawned.jsonl"), "utf8").catch(() => ""));
    return { result, status, spawned, stdout: await readFile(spec.stdoutPath, "utf8").catch(() => ""), stderr: await readFile(spec.stderrPath, "utf8").catch(() => "") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the attempt runner on the local executor", () => {
  test("streams output to the logs and keeps the last stdout line and the stderr tail", async () => {
    const { result, stdout, stderr } = await attempt("echo one; echo '  two  '; echo; echo bad >&2; exit 3");
    assert.equal(stdout, "one\n  two  \n\n");
    assert.equal(stderr, "bad\n");
    assert.deepEqual(
      [result.exitCode, result.signal, result.timedOut, result.lastStdoutLine, result.stderrTail, result.logTruncated],
      [3, null, false, "two", "bad", false],
    );
  });

  test("leaves a status file with the exit status and the tails beside the logs when nobody journaled the result", async () => {
    const { status, spawned } = await attempt("echo out; echo err >&2; exit 4");
    assert.equal(status?.state, "exited");
    assert.deepEqual([status?.exit_code, status?.signal, status?.timed_out, status?.stdout_tail, status?.stderr_tail], [4, null, false, "out\n", "err\n"]);
    assert.equal(typeof status?.pid, "number");
    assert.deepEqual(spawned.jobs.map((r) => [r.status, r.pid]), [["job.status", status?.pid]], "the spawn log has the job's identity");
    assert.equal(spawned.launchers.length, 1, "and its launcher's");
  });

  test("cuts a log at the cap and says so in the log", async () => {
    const { result, stdout } = await attempt("printf '%0100d' 0; echo; echo last", { logCapBytes: 40 });
    assert.equal(result.logTruncated, true);
    assert.equal(stdout, `${"0".repeat(40)}\n[wf: output cut at 40 bytes]\n`);
    assert.equal(result.lastStdoutLine, "last", "register still sees the real last line");
  });

  test("a log that grows past the cap while the job runs is cut back, and the tail still holds the last line", async () => {
    const { result, stdout } = await attempt("printf '%0100d\\n' 0; sleep 0.5; printf '%0100d\\n' 1; sleep 0.5; echo last", { logCapBytes: 40 });
    assert.equal(result.logTruncated, true);
    assert.equal(stdout, `${"0".repeat(40)}\n[wf: output cut at 40 bytes]\n`);
    assert.equal(result.lastStdoutLine, "last");
  });

  test("a timeout ends the whole process group", async () => {
    const { result } = await attempt("sleep 5 & sleep 5", { timeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, "SIGTERM");
    assert.ok(result.durationMs < 4000, `took ${result.durationMs}ms`);
  });

  test("an abort ends the attempt like a signal would", async () => {
    const abort = new AbortController();
    // Once the job runs (its launcher may take a while to start on a loaded machine).
    const { result } = await attempt("sleep 5", { onSpawn: () => setTimeout(() => abort.abort("stop"), 50) }, abort.signal);
    assert.deepEqual([result.exitCode, result.signal, result.timedOut], [null, "SIGTERM", false]);
  });

  test("a character split across two writes reaches --print-output whole", async () => {
    const lines: string[] = [];
    await attempt("printf '\\303'; sleep 0.1; printf '\\251t\\303\\251\\n'", { onLine: (_s, l) => lines.push(l) });
    assert.deepEqual(lines, ["été"]);
  });

  test("a missing working directory is a failure to start, not a crash", async () => {
    const { result } = await attempt("true", { cwd: "/nonexistent/wf-test-dir" }).catch(() => ({ result: undefined }));
    assert.ok(result !== undefined);
    assert.equal(result.exitCode, null);
    assert.equal(result.spawnError, 'working directory "/nonexistent/wf-test-dir" does not exist');
  });
});
