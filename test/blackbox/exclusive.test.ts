/**
 * `wf run --exclusive` refuses to start beside any active run of the same
 * workflow: a plain run, a resume, and a task left running by a `wf` killed
 * with -9. The tasks wait for a `stop` file, so a test ends them when it says.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { isAlive } from "../../src/platform/process.ts";
import { collect, type RunResult, TestRig, until } from "./rig.ts";

/**
 * Task "a" marks that it started, then waits for `stop` (or for the rig's folder to go, so
 * a failed test leaves no loop behind); in the second, its first attempt fails instead.
 */
const WAITING = `name = "nightly"\n[tasks.a]\ncmd = "touch started.txt; while [ ! -f stop ] && [ -f t.toml ]; do sleep 0.05; done"\n`;
const FAILS_THEN_WAITS =
  `name = "nightly"\n[tasks.a]\ncmd = "if [ ! -f go ]; then exit 1; fi; touch resumed.txt; while [ ! -f stop ] && [ -f t.toml ]; do sleep 0.05; done"\n`;

/** Ends a process group we know the leader of; one already gone is fine. */
function killGroupOf(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function closed(child: ChildProcess): Promise<RunResult> {
  return collect(child);
}

describe("wf run --exclusive", { concurrency: 4 }, () => {
  test("a plain run in progress blocks it: exit 3, naming the run, wf's pid and the host", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", WAITING);
    const plain = rig.spawn(["run", "t.toml"]);
    const done = closed(plain);
    await rig.waitForFile("started.txt");
    const runId = await rig.lastRunId();
    const r = await rig.run(["run", "t.toml", "--exclusive"]);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `Cannot start "nightly": run "${runId}" of it is active (pid ${plain.pid} on host "${hostname()}")\n`);
    assert.equal(r.code, 3);
    assert.deepEqual(await rig.runIds(), [runId], "nothing of the refused run is left");
    await rig.write("stop", "");
    assert.equal((await done).code, 0);
    const after = await rig.run(["run", "t.toml", "--exclusive"]);
    assert.equal(after.code, 0, after.stderr);
  });

  test("a resume in progress blocks it, naming the resuming wf", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", FAILS_THEN_WAITS);
    assert.equal((await rig.run(["run", "t.toml"])).code, 1);
    const runId = await rig.lastRunId();
    await rig.write("go", "");
    const resume = rig.spawn(["resume", runId]);
    const done = closed(resume);
    await rig.waitForFile("resumed.txt");
    const r = await rig.run(["run", "t.toml", "--exclusive"]);
    assert.equal(r.stderr, `Cannot start "nightly": run "${runId}" of it is active (pid ${resume.pid} on host "${hostname()}")\n`);
    assert.equal(r.code, 3);
    await rig.write("stop", "");
    assert.equal((await done).code, 0);
  });

  test("after kill -9 of wf, the task it left running blocks it until that task ends", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", WAITING);
    let taskPid: number | undefined;
    try {
      const plain = rig.spawn(["run", "t.toml"]);
      const gone = new Promise<void>((resolve) => plain.once("exit", () => resolve()));
      await rig.waitForFile("started.txt");
      const runId = await rig.lastRunId();
      taskPid = await rig.spawnedPid(runId, "a");
      process.kill(plain.pid!, "SIGKILL"); // wf only: its task's group lives on
      await gone;
      assert.ok(isAlive(taskPid), "the task outlives wf");
      const r = await rig.run(["run", "t.toml", "--exclusive"]);
      assert.equal(r.stderr, `Cannot start "nightly": run "${runId}" of it left task "a" running (pid ${taskPid} on host "${hostname()}")\n`);
      assert.equal(r.code, 3);
      await rig.write("stop", "");
      const pid = taskPid;
      await until("the orphan task's end", () => !isAlive(pid));
      const after = await rig.run(["run", "t.toml", "--exclusive"]);
      assert.equal(after.stderr, "");
      assert.equal(after.code, 0);
    } finally {
      killGroupOf(taskPid);
    }
  });
});

describe("a workflow name is never a path", () => {
  for (const name of ["etl/nightly", "../../escape", ".hidden", "a b:c"]) {
    test(`--exclusive with name = ${JSON.stringify(name)} keeps its lock inside the state directory`, async () => {
      await using rig = await TestRig.create();
      await rig.write("w.toml", `name = ${JSON.stringify(name)}\n\n[tasks.a]\ncmd = "ls \\"$WF_STATE_DIR/locks\\""\n`);
      const r = await rig.run(["run", "w.toml", "--exclusive", "--print-output"]);
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      const encoded = `${encodeURIComponent(name).replace(/^\./, "%2E")}.lock`;
      assert.equal(r.stdout.split("\n")[0], `[a] ${encoded}`);
      // Nothing was written beside the rig's own files, and the lock is gone once the run ended.
      assert.deepEqual((await readdir(rig.dir)).sort(), ["state", "w.toml"]);
      assert.deepEqual(await readdir(join(rig.stateDir, "locks")), []);
    });
  }
});
