/**
 * Messages that point at the fix: each names what was wrong and what to do,
 * with the documented exit code.
 */
import assert from "node:assert/strict";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

describe("messages that point at the fix", () => {
  test("a folder given as a workflow is named as a folder; a path with a slash is not looked up under workflows/", async () => {
    await using rig = await TestRig.create();
    await mkdir(rig.path("flows"));
    const dir = await rig.run(["run", "flows"]);
    assert.equal(dir.stderr, 'Cannot read workflow "flows": it is a folder\n');
    assert.equal(dir.code, 2);
    await rig.write("workflows/sub/ci.toml", `[tasks.a]\ncmd = "true"\n`);
    const slash = await rig.run(["validate", "sub/ci.toml"]);
    assert.equal(slash.stderr, 'Cannot find workflow "sub/ci.toml": no such file\n');
    assert.equal(slash.code, 2);
    const name = await rig.run(["validate", "nightly"]);
    assert.equal(name.stderr, 'Cannot find workflow "nightly": no such file, and no "workflows/nightly.toml"\n');
    assert.equal(name.code, 2);
  });

  test("a resume whose workflow file is gone runs from the copy kept in the run's folder, with a warning that names it", async () => {
    await using rig = await TestRig.create();
    await rig.write("ci.toml", `[tasks.first]\ncmd = "echo once >> first.txt"\n[tasks.a]\ndepends_on = ["first"]\ncmd = "test -f fixed"\n`);
    assert.equal((await rig.run(["run", "ci.toml", "--quiet"])).code, 1);
    const id = await rig.lastRunId();
    await rename(rig.path("ci.toml"), rig.path("moved.toml"));
    await rig.write("fixed", "");
    const copy = join(rig.stateDir, "runs", id, "workflow.toml");
    const plan = await rig.run(["resume", id, "--dry-run"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /: 1 of 2 tasks would run\n/);
    const resumed = await rig.run(["resume", id, "--quiet"]);
    const warning = `warning: The workflow file "${rig.path("ci.toml")}" no longer exists: resuming from the copy kept when the run started, "${copy}"\n`;
    assert.equal(resumed.stderr, warning);
    assert.equal(resumed.code, 0);
    assert.equal(await rig.read("first.txt"), "once\n", "the task that succeeded is skipped");
    // With the copy gone too, one sentence; --file still wins.
    await rm(rig.path("fixed"));
    assert.equal((await rig.run(["run", "moved.toml", "--quiet"])).code, 1);
    const second = await rig.lastRunId();
    await rm(join(rig.stateDir, "runs", second, "workflow.toml"));
    await rename(rig.path("moved.toml"), rig.path("gone.toml"));
    const refused = await rig.run(["resume", second]);
    const secondCopy = join(rig.stateDir, "runs", second, "workflow.toml");
    assert.equal(
      refused.stderr,
      `Cannot resume run "${second}": its workflow file "${rig.path("moved.toml")}" no longer exists, nor does the copy kept when the run started ("${secondCopy}"): pass --file PATH\n`,
    );
    assert.equal(refused.code, 3);
    await rig.write("fixed", "");
    const withFile = await rig.run(["resume", second, "--file", "gone.toml", "--quiet"]);
    assert.deepEqual([withFile.code, withFile.stderr], [0, ""]);
  });

  test("wf logs takes a matrix selector as depends_on does", async () => {
    await using rig = await TestRig.create();
    await rig.write("m.toml", `[tasks.m]\ncmd = "echo {{.os}}-{{.v}}"\nmatrix = { os = ["linux", "darwin"], v = ["1", "2"] }\n`);
    assert.equal((await rig.run(["run", "m.toml", "--quiet"])).code, 0);
    const id = await rig.lastRunId();
    const logs = await rig.run(["logs", id, "m[os=linux]"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, "==> m[os=linux,v=1] (attempt 1) <==\nlinux-1\n==> m[os=linux,v=2] (attempt 1) <==\nlinux-2\n");
    const one = await rig.run(["logs", id, "m[v=2,os=darwin]"]);
    assert.equal(one.stdout, "==> m[os=darwin,v=2] (attempt 1) <==\ndarwin-2\n");
    const none = await rig.run(["logs", id, "m[os=windows]"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^Run "\w+" has no task "m\[os=windows\]": its tasks are "m\[os=linux,v=1\]", /);
  });

  test("the attempt counter says which attempt of how many in this execution, and the overall number after a resume", async () => {
    await using rig = await TestRig.create();
    await rig.write("r.toml", `[tasks.flaky]\ncmd = "test -f fixed"\nretries = 1\n`);
    const first = await rig.run(["run", "r.toml"]);
    assert.ok(first.stdout.includes("↻ flaky (failed: exit 1, attempt 1/2; retrying)\n"), first.stdout);
    assert.ok(first.stdout.includes("✗ flaky (failed: exit 1, attempt 2/2)\n"), first.stdout);
    const id = await rig.lastRunId();
    const again = await rig.run(["resume", id]);
    assert.ok(again.stdout.includes("↻ flaky (failed: exit 1, attempt 1/2, 3 in all; retrying)\n"), again.stdout);
    assert.ok(again.stdout.includes("✗ flaky (failed: exit 1, attempt 2/2, 4 in all)\n"), again.stdout);
  });
});
