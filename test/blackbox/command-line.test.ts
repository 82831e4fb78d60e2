/**
 * The command line refuses what it does not understand: one sentence on
 * stderr and exit 2, nothing run, nothing on stdout. A stray `-v` in a crontab
 * must not report success every night.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

const REFUSED: readonly [args: string[], stderr: string][] = [
  [["run", "t.toml", "--version"], 'Option "--version" is not one of "wf run": run "wf --version" alone for the version\n'],
  [["runs", "-v"], 'Option "-v" is not one of "wf runs": run "wf --version" alone for the version\n'],
  [["run", "t.toml", "other.toml"], 'Unexpected argument "other.toml": "wf run" takes <workflow>\n'],
  [["logs", "abc", "task", "extra"], 'Unexpected argument "extra": "wf logs" takes <run> [task]\n'],
  [["runs", "extra"], 'Unexpected argument "extra": "wf runs" takes no arguments\n'],
  [["--bogus", "run", "t.toml"], 'Unknown option "--bogus": run "wf --help" for usage\n'],
  [["--stat-dir", "x", "runs"], 'Unknown option "--stat-dir" (did you mean "--state-dir"?): run "wf --help" for usage\n'],
  [["rnu", "t.toml"], 'Unknown command "rnu" (did you mean "run"?): run "wf --help" for the list\n'],
  [["help", "nosuch"], 'Unknown command "nosuch": run "wf --help" for the list\n'],
  [["run", "t.toml", "--max-parallel", "-1"], 'Invalid --max-parallel "-1": expected a whole number of at least 1\n'],
  [["run", "t.toml", "--max-parallel", "1e1"], 'Invalid --max-parallel "1e1": expected a whole number of at least 1\n'],
  [["run", "t.toml", "--max-parallel", "0x10"], 'Invalid --max-parallel "0x10": expected a whole number of at least 1\n'],
  [["run", "t.toml", "--timeout", "0"], 'Invalid --timeout "0": expected a duration above zero such as 90s, 10m or 1h30m\n'],
  [["run", "t.toml", "--bogus"], 'Unknown option "--bogus" for "wf run": run "wf run --help" for usage\n'],
  [["run", "t.toml", "--resume-faild"], 'Unknown option "--resume-faild" for "wf run" (did you mean "--resume-failed"?): run "wf run --help" for usage\n'],
  [["run", "t.toml", "--keep-goin=1"], 'Unknown option "--keep-goin" for "wf run" (did you mean "--keep-going"?): run "wf run --help" for usage\n'],
  [["show", "-x"], 'Unknown option "-x" for "wf show": run "wf show --help" for usage\n'],
];

describe("the command line", () => {
  for (const [args, stderr] of REFUSED) {
    test(`wf ${args.join(" ")} is refused with exit 2 and runs nothing`, async () => {
      await using rig = await TestRig.create();
      await rig.write("t.toml", `[tasks.a]\ncmd = "touch ran"\n`);
      const r = await rig.run(args);
      assert.equal(r.stderr, stderr);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.ok(!existsSync(rig.path("ran")), "no task ran");
      assert.ok(!existsSync(rig.stateDir), "no state directory was created");
    });
  }

  test("wf help and wf help <command> print the help and exit 0", async () => {
    await using rig = await TestRig.create();
    const all = await rig.run(["help"]);
    assert.equal(all.code, 0);
    assert.equal(all.stderr, "");
    assert.match(all.stdout, /^wf\/\S+ .*\n\nUsage:\n  \$ wf <command> \[options\]\n/);
    for (const name of ["run", "resume", "validate", "runs", "show", "logs", "graph", "diff", "export", "prune", "verify"]) {
      assert.ok(all.stdout.includes(`\n  ${name} `), `the list names ${name}`);
    }
    const one = await rig.run(["help", "runs"]);
    assert.equal(one.code, 0);
    assert.match(one.stdout, /\nUsage:\n  \$ wf runs\n/);
    assert.match(one.stdout, /--limit <n>/);
  });

  test("a value that looks like an option is taken as the value of the option before it", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `[tasks.a]\ncmd = "echo $WF_VAR_x"\n`);
    const r = await rig.run(["run", "t.toml", "--var", "x=-1", "--print-output", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const runs = await rig.run(["runs", "--workflow", "007"]);
    assert.equal(runs.stdout, "No runs match the filters\n");
  });
});
