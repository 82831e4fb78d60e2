/**
 * Every write to stdout is checked: a command whose output cannot be written
 * (`> /dev/full`, where the disk is full) ends with one sentence on stderr and
 * exit 1, never a stack trace; a reader that stopped (EPIPE, `| head`) stays
 * quiet, with the command's own exit code (docs/errors.md).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { describe, test } from "node:test";
import { cliCommand, collect, TestRig } from "./rig.ts";

const FULL = "Cannot write to stdout: the disk is full\n";

const WORKFLOW = `name = "chatty"
[tasks.talk]
cmd = 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i of some output"; done'
`;

/** Runs the CLI with stdout on /dev/full. */
async function toFull(rig: TestRig, args: string[]) {
  const [cmd, ...pre] = cliCommand();
  const fd = openSync("/dev/full", "w");
  try {
    const child = spawn(cmd!, [...pre, ...args], { cwd: rig.dir, env: rig.env(), stdio: ["pipe", fd, "pipe"] });
    return await collect(child);
  } finally {
    closeSync(fd);
  }
}

describe("checked writes", { skip: !existsSync("/dev/full") }, () => {
  test("every reading command with stdout on /dev/full says the disk is full, exit 1", async () => {
    await using rig = await TestRig.create();
    await rig.write("chatty.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "chatty.toml"])).code, 0);
    const id = await rig.lastRunId();
    const commands = [
      ["export", id],
      ["export", id, "--format", "tar", "-o", "-"],
      ["show", id],
      ["show", id, "--json"],
      ["logs", id],
      ["runs"],
      ["runs", "--json"],
      ["verify", id, "--json"],
    ];
    for (const args of commands) {
      const r = await toFull(rig, args);
      assert.deepEqual({ args, code: r.code, stderr: r.stderr }, { args, code: 1, stderr: FULL });
    }
  });

  test("run --json with stdout on /dev/full runs and journals the whole run, then exits 1 with one sentence", async () => {
    await using rig = await TestRig.create();
    await rig.write("chatty.toml", WORKFLOW);
    const r = await toFull(rig, ["run", "--json", "chatty.toml"]);
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 1, stderr: FULL });
    const journal = await rig.journal(await rig.lastRunId());
    assert.equal(journal.at(-1)?.type, "run_status");
    assert.equal(journal.at(-1)?.["status"], "success");
    // The task's own output went to its log as usual.
    const logs = await rig.run(["logs", await rig.lastRunId(), "talk"]);
    assert.match(logs.stdout, /line 10 of some output/);
  });

  test("a reader that stopped (EPIPE) is quiet: exit 0, nothing on stderr", async () => {
    await using rig = await TestRig.create();
    await rig.write("chatty.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "chatty.toml"])).code, 0);
    const id = await rig.lastRunId();
    for (const args of [["logs", id], ["show", id, "--json"], ["export", id]]) {
      const child = rig.spawn(args);
      // Close the reading end at once: every write of the CLI meets a closed pipe.
      child.stdout!.destroy();
      const r = await collect(child);
      assert.deepEqual({ args, code: r.code, stderr: r.stderr }, { args, code: 0, stderr: "" });
    }
  });

  test("a failing command whose stderr is /dev/full keeps its exit code", async () => {
    await using rig = await TestRig.create();
    const [cmd, ...pre] = cliCommand();
    const fd = openSync("/dev/full", "w");
    try {
      const child = spawn(cmd!, [...pre, "show", "nothere"], { cwd: rig.dir, env: rig.env(), stdio: ["pipe", "pipe", fd] });
      const r = await collect(child);
      assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 2, stdout: "" });
    } finally {
      closeSync(fd);
    }
  });
});
