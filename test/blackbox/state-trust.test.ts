/**
 * A state directory another local user controls is refused before anything
 * in it is read or written, as ssh's StrictModes refuses a home folder others
 * can write: made first by a real second user (`nobody`) in a world-writable
 * folder, one anybody may write, and a run folder another user planted in a
 * directory that is otherwise the user's own. Runs as root, which is what
 * makes the attack matter (wf run from root's crontab); skipped otherwise.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

const NOBODY = 65534;
const root = typeof process.getuid === "function" && process.getuid() === 0;
const skip = root ? false : "needs root, and the second local user nobody";

/** Runs `args` as nobody, as that user would from their own shell. */
function asNobody(args: string[]): void {
  const r = spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `as nobody: ${args.join(" ")}: ${r.stderr}`);
}

const refusedOwner = (path: string, mode = "0755") =>
  `Refusing the state directory at "${path}": it is owned by nobody (uid 65534), not by root (uid 0) who runs wf (mode ${mode}); fix its owner and mode, or set WF_SHARED_STATE_DIR=1 if it is shared on purpose\n`;
const refusedMode = (path: string, mode: string) =>
  `Refusing the state directory at "${path}": its mode ${mode} lets group or others write to it (owner root (uid 0)); fix its owner and mode, or set WF_SHARED_STATE_DIR=1 if it is shared on purpose\n`;

/** A workflow whose one task writes who ran it into `who`. */
const WHO = `[tasks.who]\ncmd = "id -u > who"\n`;

describe("a state directory another user controls", { skip }, () => {
  test("made first by nobody in a world-writable folder: every command refuses it with exit 2 before any task runs, and writes nothing into it", async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", WHO);
    await chmod(rig.dir, 0o1777); // as the system's temporary folder is
    asNobody(["mkdir", rig.stateDir]);
    for (const args of [["run", "w.toml"], ["resume"], ["runs"], ["show", "abc"], ["logs", "abc"], ["export", "abc"], ["prune", "--keep", "1"], ["verify", "abc"]]) {
      const r = await rig.run(args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [2, "", refusedOwner(rig.stateDir)], `wf ${args.join(" ")}`);
    }
    assert.ok(!existsSync(rig.path("who")), "no task ran");
    assert.deepEqual(readdirSync(rig.stateDir), [], "nothing was written into it");
  });

  test("one anybody may write (mode 0777), or whose runs folder is group-writable: refused, and WF_SHARED_STATE_DIR=1 uses it on purpose", async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", WHO);
    await mkdir(rig.stateDir, { mode: 0o700 });
    await chmod(rig.stateDir, 0o777);
    const r = await rig.run(["run", "w.toml"]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [2, "", refusedMode(rig.stateDir, "0777")]);
    assert.ok(!existsSync(rig.path("who")), "no task ran");

    const shared = await rig.run(["run", "w.toml", "--quiet"], { env: { WF_SHARED_STATE_DIR: "1" } });
    assert.equal(shared.code, 0, shared.stderr);
    assert.equal(await rig.read("who"), "0\n");

    await chmod(rig.stateDir, 0o700);
    await chmod(join(rig.stateDir, "runs"), 0o770);
    const runs = await rig.run(["runs"]);
    assert.deepEqual([runs.code, runs.stderr], [2, refusedMode(join(rig.stateDir, "runs"), "0770")]);
  });

  test("a failed run nobody planted in root's own state directory: the plain resume of cron never runs its command, and naming it is refused", async () => {
    await using rig = await TestRig.create();
    // nobody's workflow fails once, then writes who ran it into a file of nobody's choice.
    await rig.write("w.toml", `[tasks.who]\ncmd = "test -f again && id -u > who; touch again; test -f who"\n`);
    const failed = await rig.run(["run", "w.toml", "--quiet"]);
    assert.equal(failed.code, 1, failed.stderr);
    const id = await rig.lastRunId();
    // The planted run: its folder and files now nobody's (as if moved in while runs/ was open to nobody).
    const planted = id;
    spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, join(rig.stateDir, "runs", planted)]);
    await rig.write("again", "");
    // Listing finds it (the index is rebuilt from runs/) and shows it as unreadable, never as a run to resume.
    const plain = await rig.run(["resume"]);
    assert.deepEqual([plain.code, plain.stdout, plain.stderr], [3, "", "No resumable run found: nothing failed, was cancelled or was interrupted\n"]);
    const named = await rig.run(["resume", planted]);
    assert.deepEqual([named.code, named.stdout, named.stderr], [2, "", refusedOwner(join(rig.stateDir, "runs", planted), "0700")]);
    const shown = await rig.run(["show", planted]);
    assert.deepEqual([shown.code, shown.stderr], [2, refusedOwner(join(rig.stateDir, "runs", planted), "0700")]);
    assert.ok(!existsSync(rig.path("who")), "nobody's command never ran as root");
  });
});
