/**
 * What a task prints, and what the journal may keep of it: a huge line under
 * --print-output costs time and memory linear in its length and is shown cut;
 * --var values stay out of the journal even in error texts; a task sees only
 * the registered variables of its ancestors.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

async function everyFileUnder(dir: string): Promise<string> {
  let all = "";
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) all += await readFile(join(entry.parentPath, entry.name), "utf8");
  }
  return all;
}

describe("task output", () => {
  test("--print-output shows a 50 MB line without a newline cut at 65536 characters, and the log keeps it whole", async () => {
    await using rig = await TestRig.create();
    await rig.write("big.toml", `[tasks.big]\ncmd = "head -c 50000000 /dev/zero | tr '\\\\0' a"\n`);
    const r = await rig.run(["run", "big.toml", "--print-output"]);
    assert.equal(r.code, 0, r.stderr);
    const shown = r.stdout.split("\n").filter((l) => l.startsWith("[big] "));
    assert.deepEqual(shown, [`[big] ${"a".repeat(65536)} [wf: line cut at 65536 characters]`]);
    const id = await rig.lastRunId();
    const log = await readFile(join(rig.stateDir, "runs", id, "logs", "big.1.stdout.log"));
    assert.equal(log.length, 50_000_000);
  });

  test("a --var value in an error text (working_dir, the task's stderr, error_message) is journaled as its placeholder", async () => {
    await using rig = await TestRig.create();
    await rig.write(
      "s.toml",
      [
        "[tasks.leak]",
        `cmd = "echo \\"token {{.TOKEN}} rejected\\" >&2; exit 1"`,
        'on_failure = "report"',
        "[tasks.report]",
        'type = "forensic"',
        `cmd = "echo 'saw: {{.error_message}}'"`,
        "[tasks.where]",
        `cmd = "true"`,
        `working_dir = "/nonexistent/{{.TOKEN}}"`,
        "ignore_failure = true",
        "",
      ].join("\n"),
    );
    const r = await rig.run(["run", "s.toml", "--var", "TOKEN=hunter2-secret", "--keep-going"]);
    assert.equal(r.code, 1, r.stderr);
    const id = await rig.lastRunId();
    const everything = await everyFileUnder(join(rig.stateDir, "runs", id));
    const journal = await rig.journalText(id);
    assert.ok(!journal.includes("hunter2-secret"), journal);
    assert.match(journal, /token \{\{\.TOKEN\}\} rejected/);
    // The task itself got the value: its own log holds what it printed.
    assert.ok(everything.includes("token hunter2-secret rejected"));
  });

  test("a task sees the registered variables of its ancestors only, as WF_VAR_ and in templates", async () => {
    await using rig = await TestRig.create();
    await rig.write(
      "v.toml",
      [
        "[tasks.a]",
        'cmd = "echo from-a"',
        'register = "x"',
        "[tasks.b]",
        'cmd = "echo b sees ${WF_VAR_x:-nothing}"',
        "[tasks.c]",
        'cmd = "echo c sees ${WF_VAR_x:-nothing}"',
        'depends_on = ["a"]',
        "",
      ].join("\n"),
    );
    const r = await rig.run(["run", "v.toml", "--print-output"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes("[b] b sees nothing\n"), r.stdout);
    assert.ok(r.stdout.includes("[c] c sees from-a\n"), r.stdout);
  });
});
