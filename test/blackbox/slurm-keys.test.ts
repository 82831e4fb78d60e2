/**
 * `executor`, `[slurm]` and a task's `slurm` table through the real `wf validate`
 * (docs/slurm.md, "Resources"): a file that uses them all is valid, and each kind of mistake
 * is one located error, exit 2.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

const GOOD = `executor = "slurm"

[slurm]
partition = "short"
cpus      = 2
mem       = "4G"
time      = "1h"
account   = "proj-42"
qos       = "normal"
args      = ["--exclusive"]

[tasks.fetch]
cmd      = "true"
executor = "local"

[tasks.train]
cmd        = "true"
depends_on = ["fetch"]
timeout    = "6h"
slurm      = { partition = "gpu", cpus = 8, mem = "64000", args = ["--gres=gpu:1"] }

[tasks.report]
cmd        = "true"
depends_on = ["train"]

[tasks.report.slurm]
time = "0"
`;

/** A bad file and the exact diagnostics `wf validate` prints for it. */
interface BadFile {
  readonly name: string;
  readonly source: string;
  readonly diagnostics: readonly string[];
}

const BAD: readonly BadFile[] = [
  {
    name: "an unknown key in [slurm], with a suggestion",
    source: `[slurm]\ncpu = 2\n\n[tasks.a]\ncmd = "true"\n`,
    diagnostics: [
      'bad.toml:2:1: error: Unknown key "cpu" in [slurm] (did you mean "cpus"?)',
      "2 | cpu = 2",
      "  | ^~~",
    ],
  },
  {
    name: "a misspelt executor key and a misspelt [slurm]",
    source: `exector = "slurm"\n\n[slurn]\ncpus = 2\n\n[tasks.a]\ncmd = "true"\n`,
    diagnostics: [
      'bad.toml:1:1: error: Unknown key "exector" at the top level (did you mean "executor"?)',
      '1 | exector = "slurm"',
      "  | ^~~~~~~",
      // A table header is marked with its brackets.
      'bad.toml:3:1: error: Unknown key "slurn" at the top level (did you mean "slurm"?)',
      "3 | [slurn]",
      "  | ^~~~~~~",
    ],
  },
  {
    name: "an executor that does not exist",
    source: `executor = "kubernetes"\n\n[tasks.a]\ncmd = "true"\n`,
    diagnostics: [
      'bad.toml:1:12: error: Invalid executor "kubernetes": expected "local" or "slurm"',
      '1 | executor = "kubernetes"',
      "  |            ^~~~~~~~~~~~",
    ],
  },
  {
    name: "wrong types and values in a task's slurm table",
    source: `[tasks.train]\ncmd = "true"\nslurm = { cpus = "8", mem = "lots" }\n`,
    diagnostics: [
      'bad.toml:3:18: error: Expected an integer for "cpus" in the slurm table of task "train", found a string',
      '3 | slurm = { cpus = "8", mem = "lots" }',
      "  |                  ^~~",
      'bad.toml:3:29: error: Invalid mem "lots" in the slurm table of task "train": expected megabytes, or a number with K, M, G or T like "4G"',
      '3 | slurm = { cpus = "8", mem = "lots" }',
      "  |                             ^~~~~~",
    ],
  },
  {
    name: "a bad time, zero cpus and an option wf sets itself",
    source: `[tasks.a]\ncmd = "true"\n\n[tasks.a.slurm]\ntime = "2 hours"\ncpus = 0\nargs = ["--gres=gpu:1", "-o", "x.log"]\n`,
    diagnostics: [
      'bad.toml:5:8: error: Invalid duration "2 hours" for "time" in the slurm table of task "a": use Go style like "500ms", "30s", "5m" or "1h30m"',
      '5 | time = "2 hours"',
      "  |        ^~~~~~~~~",
      'bad.toml:6:8: error: Invalid cpus 0 in the slurm table of task "a": expected a whole number, 1 or more',
      "6 | cpus = 0",
      "  |        ^",
      'bad.toml:7:25: error: Invalid sbatch argument "-o" in the slurm table of task "a": wf sets --output itself',
      '7 | args = ["--gres=gpu:1", "-o", "x.log"]',
      "  |                         ^~~~",
    ],
  },
  {
    name: "args that are not an array of strings",
    source: `[slurm]\nargs = "--exclusive"\n\n[tasks.a]\ncmd = "true"\n`,
    diagnostics: [
      'bad.toml:2:8: error: Expected an array of strings for "args" in [slurm], found a string',
      '2 | args = "--exclusive"',
      "  |        ^~~~~~~~~~~~~",
    ],
  },
];

describe("executor and slurm keys in wf validate", { concurrency: 4 }, () => {
  test("a file using executor, [slurm] and slurm tables is valid", async () => {
    await using rig = await TestRig.create();
    await rig.write("good.toml", GOOD);
    const r = await rig.run(["validate", "good.toml"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, 'Workflow "good.toml" is valid: 3 tasks\n');
    assert.equal(r.code, 0);
  });

  for (const bad of BAD) {
    test(`wf validate refuses ${bad.name}, with exit 2`, async () => {
      await using rig = await TestRig.create();
      await rig.write("bad.toml", bad.source);
      const r = await rig.run(["validate", "bad.toml"]);
      const errors = bad.diagnostics.filter((l) => l.startsWith("bad.toml:")).length;
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, [...bad.diagnostics, `Workflow "bad.toml" is invalid: ${errors} error${errors === 1 ? "" : "s"}, 0 warnings`, ""].join("\n"));
      assert.equal(r.code, 2);
    });
  }
});
