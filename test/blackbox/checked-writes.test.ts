/**
 * Every write to stdout is checked: a command whose output cannot be written
 * (`> /dev/full`, where the disk is full) ends with one sentence on stderr and
 * exit 1, never a stack trace; a reader that stopped (EPIPE, `| head`) stays
 * quiet, with the command's own exit code (docs/errors.md).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync } from "node:fs";
import { mkdir, readFile, symlink } from "node:fs/promises";
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

  test("-o replaces only nothing or a regular file: a device, a pipe, a folder or a link at the path is left as it is", async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "w.toml", "--quiet"])).code, 0);
    const id = await rig.lastRunId();
    // A pipe stands in for a device such as /dev/null, which root's rename would replace.
    assert.equal(spawnSync("mkfifo", [rig.path("pipe")]).status, 0);
    await mkdir(rig.path("folder"));
    await rig.write("target.txt", "kept\n");
    await symlink(rig.path("target.txt"), rig.path("link"));
    const cases: [string, string][] = [["pipe", "it is not a regular file"], ["folder", "it is a folder"], ["link", "it is a symbolic link, which wf does not follow there"]];
    for (const [name, why] of cases) {
      for (const args of [["export", id, "-o", name], ["export", id, "--format", "tar", "-o", name], ["report", id, "-o", name]]) {
        const r = await rig.run(args);
        // wf report names the path it writes in full, as it prints it on success.
        const shown = args[0] === "report" ? rig.path(name) : name;
        assert.deepEqual({ args, code: r.code, stderr: r.stderr }, { args, code: 1, stderr: `Cannot write "${shown}": ${why}\n` });
      }
    }
    assert.ok(lstatSync(rig.path("pipe")).isFIFO());
    assert.ok(lstatSync(rig.path("link")).isSymbolicLink());
    assert.equal(await readFile(rig.path("target.txt"), "utf8"), "kept\n");
    const written = await rig.run(["export", id, "-o", "target.txt"]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(JSON.parse(await readFile(rig.path("target.txt"), "utf8")).format, "wf-export");
  });
});
