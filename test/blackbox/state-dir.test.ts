/**
 * The state directory when the environment is hostile: a file where the folder
 * should be, a read-only file system, a folder the user may not enter, a disk
 * that fills up while the lock is written, an index that is a folder. Each is
 * one sentence naming what could not be done and why, the documented exit
 * code, and nothing half-made left behind.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { cliCommand, collect, TestRig } from "./rig.ts";

const WORKFLOW = `[tasks.a]\ncmd = "echo a"\n`;

/** Mounts a tmpfs at `dir` with `options`; false (and one printed line) where this machine does not allow it. */
function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
  if (r.status !== 0) {
    console.log(`# skipped: cannot mount a tmpfs here (${String(r.stderr).trim() || "not root"})`);
    return false;
  }
  return true;
}

function unmount(dir: string): void {
  spawnSync("umount", [dir], { stdio: "ignore" });
}

describe("a hostile state directory", () => {
  test("a file where the state directory should be", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", WORKFLOW);
    await rig.write("state", "not a folder\n");
    const run = await rig.run(["run", "t.toml"]);
    assert.equal(run.stderr, `Cannot create the state directory "${rig.stateDir}": a part of its path is not a folder\n`);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    const runs = await rig.run(["runs"]);
    assert.equal(runs.stderr, `Cannot read the run index "${join(rig.stateDir, "index.jsonl")}": a part of its path is not a folder\n`);
    assert.equal(runs.code, 1);
    assert.equal(await rig.read("state"), "not a folder\n");
  });

  test("a read-only file system", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", WORKFLOW);
    const mnt = rig.path("ro");
    if (!mountTmpfs(mnt, "ro,size=1m")) return t.skip("cannot mount a tmpfs");
    try {
      const run = await rig.run(["run", "t.toml"], { env: { WF_STATE_DIR: join(mnt, "state") } });
      assert.equal(run.stderr, `Cannot create the state directory "${join(mnt, "state")}": the file system is read-only\n`);
      assert.equal(run.code, 1);
    } finally {
      unmount(mnt);
    }
  });

  test("a state directory the user may not enter", async (t) => {
    await using rig = await TestRig.create();
    if (process.getuid?.() !== 0) return t.skip("needs root to run the CLI as another user");
    const [cmd, ...pre] = cliCommand();
    const probe = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", cmd!, ...pre, "--version"], { stdio: "pipe" });
    if (probe.status !== 0) {
      console.log("# skipped: this CLI cannot start as user nobody here");
      return t.skip("the CLI cannot start as nobody");
    }
    await rig.write("t.toml", WORKFLOW);
    await chmod(rig.dir, 0o755);
    await chmod(rig.path("t.toml"), 0o644);
    await mkdir(join(rig.stateDir, "runs"), { recursive: true, mode: 0o700 });
    const child = spawn(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", cmd!, ...pre, "run", "t.toml"],
      // Shared on purpose: root's folder would otherwise be refused before wf tries to enter it (state-trust.test.ts).
      { cwd: rig.dir, env: rig.env({ HOME: "/nonexistent", WF_SHARED_STATE_DIR: "1" }), stdio: ["pipe", "pipe", "pipe"] },
    );
    const run = await collect(child);
    assert.equal(run.stderr, `Cannot create the state directory "${rig.stateDir}": permission denied\n`);
    assert.equal(run.code, 1);
    assert.deepEqual(readdirSync(join(rig.stateDir, "runs")), []);
  });

  test("a disk that is full when the lock is written leaves no run folder behind", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", WORKFLOW);
    const mnt = rig.path("full");
    if (!mountTmpfs(mnt, "size=64k")) return t.skip("cannot mount a tmpfs");
    try {
      // Fill every block; folders still fit (they use inodes), files do not.
      spawnSync("dd", ["if=/dev/zero", `of=${join(mnt, "filler")}`, "bs=4k"], { stdio: "ignore" });
      const state = join(mnt, "state");
      const run = await rig.run(["run", "t.toml"], { env: { WF_STATE_DIR: state } });
      assert.match(run.stderr, new RegExp(`^Cannot take the lock "${state}/runs/[0-9A-Za-z]{10}/lock": the disk is full\\n$`));
      assert.equal(run.code, 1);
      assert.equal(run.stdout, "");
      assert.deepEqual(readdirSync(join(state, "runs")), []);
    } finally {
      unmount(mnt);
    }
  });

  test("an index that is a folder: runs still start, and wf runs names the problem", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", WORKFLOW);
    await rig.write("state/index.jsonl/keep", "");
    const run = await rig.run(["run", "t.toml", "--quiet"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const runs = await rig.run(["runs"]);
    assert.equal(runs.stderr, `Cannot read the run index "${join(rig.stateDir, "index.jsonl")}": it is a folder\n`);
    assert.equal(runs.code, 1);
    assert.ok(existsSync(rig.path("state/index.jsonl/keep")));
    // The journal is the truth: the run is there for every other command.
    const show = await rig.run(["show", await rig.lastRunId()]);
    assert.equal(show.code, 0, show.stderr);
  });
});
