/**
 * checkRegister(): a succeeded attempt whose stdout log was lost cannot
 * register a variable, and describeFailure() says so in one sentence; a log
 * cut at the cap, a lost stderr log, or a task that registers nothing stay
 * as they are. logsFull() reads the file system's free space.
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { describe, test } from "node:test";
import { checkRegister, describeFailure } from "../../../src/engine/execute.ts";
import type { AttemptResult } from "../../../src/engine/spawner.ts";
import { logsFull } from "../../../src/platform/job.ts";

const OK: AttemptResult = {
  exitCode: 0, signal: null, timedOut: false, durationMs: 10, lastStdoutLine: "line 2314 of important output ...", stderrTail: "", logTruncated: false,
};
const STDOUT = "/state/runs/r/logs/build.1.stdout.log";
const STDERR = "/state/runs/r/logs/build.1.stderr.log";

describe("checkRegister", () => {
  test("a stdout log on a full disk: the attempt fails, saying its output may be lost", () => {
    const checked = checkRegister({ ...OK, logError: { path: STDOUT, problem: "disk-full" } }, "version");
    assert.deepEqual(checked.registerLost, { variable: "version", problem: "disk-full" });
    assert.equal(describeFailure(checked, undefined), 'its output may be lost, so "version" cannot be registered: the file system of its log was full while it ran');
  });

  test("a stdout log that could not be opened: the output was lost, and the problem is named", () => {
    const checked = checkRegister({ ...OK, lastStdoutLine: "", logError: { path: STDOUT, problem: "symbolic-link" } }, "version");
    assert.equal(describeFailure(checked, undefined), 'its output was lost, so "version" cannot be registered: its log could not be opened (symbolic-link)');
  });

  test("a task that registers nothing, a lost stderr log, a log cut at the cap, a failed command: unchanged", () => {
    const lost = { ...OK, logError: { path: STDOUT, problem: "disk-full" as const } };
    assert.equal(checkRegister(lost, undefined), lost);
    const stderrOnly = { ...OK, logError: { path: STDERR, problem: "missing" as const } };
    assert.equal(checkRegister(stderrOnly, "version"), stderrOnly);
    const cut = { ...OK, logTruncated: true };
    assert.equal(checkRegister(cut, "version"), cut);
    const failed = { ...lost, exitCode: 2 };
    assert.equal(checkRegister(failed, "version"), failed);
    assert.equal(describeFailure(failed, undefined), "exit status 2");
  });
});

describe("logsFull", () => {
  test("a folder with room is not full; a folder that cannot be looked at is not known to be", () => {
    assert.equal(logsFull(tmpdir()), false);
    assert.equal(logsFull("/no/such/folder/anywhere"), false);
  });
});
