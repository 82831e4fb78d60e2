import { test } from "node:test";
import assert from "node:assert/strict";
import { executorOf, sbatchArgs, slurmTime } from "../../../src/workflow/slurm.ts";
import type { TaskDef, TaskId, Workflow } from "../../../src/workflow/types.ts";
import { parseWorkflow } from "../../../src/workflow/validate.ts";
import { defSha256 } from "../../../src/engine/hashes.ts";

const lines = (...l: string[]) => l.join("\n") + "\n";

/** Each diagnostic as `line:col:length severity: message`, for exact comparisons. */
function problems(source: string): string[] {
  return parseWorkflow("t.toml", source).diagnostics.map((d) =>
    `${d.location?.line}:${d.location?.column}:${d.location?.length} ${d.severity}: ${d.message}`
  );
}

function valid(source: string): Workflow {
  const r = parseWorkflow("t.toml", source);
  assert.deepEqual(r.diagnostics, []);
  return r.workflow!;
}

const task = (w: Workflow, id: string): TaskDef => w.tasks.get(id as TaskId)!;

test("[slurm] gives every task its keys and a task's slurm table overrides them key by key", () => {
  const w = valid(lines(
    'executor = "slurm"',
    "[slurm]",
    'partition = "short"',
    "cpus = 2",
    'mem = "4g"',
    'time = "1h30m"',
    'account = "proj"',
    'qos = "normal"',
    'args = ["--exclusive"]',
    "[tasks.a]",
    'cmd = "x"',
    "[tasks.b]",
    'cmd = "x"',
    'executor = "local"',
    'slurm = { partition = "long", args = [], time = "0" }',
  ));
  assert.equal(w.executor, "slurm");
  const all = { partition: "short", cpus: 2, mem: "4G", timeMs: 5_400_000, account: "proj", qos: "normal", args: ["--exclusive"] };
  assert.deepEqual(w.slurm, all);
  assert.deepEqual(task(w, "a").slurm, all);
  assert.equal(task(w, "a").executor, undefined);
  assert.deepEqual(task(w, "b").slurm, { ...all, partition: "long", args: [], timeMs: 0 });
  assert.equal(task(w, "b").executor, "local");
});

test("a file without executor or slurm keys gives tasks neither", () => {
  const w = valid(lines("[tasks.a]", 'cmd = "x"'));
  assert.equal(w.executor, undefined);
  assert.equal(w.slurm, undefined);
  assert.equal(task(w, "a").executor, undefined);
  assert.equal(task(w, "a").slurm, undefined);
});

test("a task's slurm table alone is its settings", () => {
  const w = valid(lines("[tasks.a]", 'cmd = "x"', "[tasks.a.slurm]", "cpus = 8"));
  assert.deepEqual(task(w, "a").slurm, { cpus: 8 });
});

test("executor and slurm settings leave the definition hash as it was", () => {
  const plain = task(valid(lines("[tasks.a]", 'cmd = "x"')), "a");
  const placed = task(valid(lines('executor = "slurm"', "[slurm]", "cpus = 2", "[tasks.a]", 'cmd = "x"', 'executor = "slurm"', "slurm = { mem = \"1G\" }")), "a");
  const hash = (t: TaskDef) => defSha256({ id: "a", task: t, matrix: {} } as never);
  assert.equal(hash(placed), hash(plain));
});

test("executorOf: the task's key, then the flag, then the top-level key, then local", () => {
  const w = valid(lines('executor = "slurm"', "[tasks.a]", 'cmd = "x"', "[tasks.b]", 'cmd = "x"', 'executor = "local"'));
  assert.equal(executorOf(w, task(w, "a")), "slurm");
  assert.equal(executorOf(w, task(w, "a"), "local"), "local");
  assert.equal(executorOf(w, task(w, "b"), "slurm"), "local");
  const plain = valid(lines("[tasks.a]", 'cmd = "x"'));
  assert.equal(executorOf(plain, task(plain, "a")), "local");
  assert.equal(executorOf(plain, task(plain, "a"), "slurm"), "slurm");
});

test("unknown keys in slurm tables get a suggestion", () => {
  assert.deepEqual(problems(lines("[slurm]", "cpu = 2", "[tasks.a]", 'cmd = "x"', "slurm = { partiton = \"p\" }", "exector = \"local\"")), [
    '2:1:3 error: Unknown key "cpu" in [slurm] (did you mean "cpus"?)',
    // A task's own keys are checked before its slurm table, as before its matrix.
    '6:1:7 error: Unknown key "exector" in task "a" (did you mean "executor"?)',
    '5:11:8 error: Unknown key "partiton" in the slurm table of task "a" (did you mean "partition"?)',
  ]);
  assert.deepEqual(problems(lines("slrum = {}", "[tasks.a]", 'cmd = "x"')), [
    '1:1:5 error: Unknown key "slrum" at the top level (did you mean "slurm"?)',
  ]);
});

test("wrong types in slurm tables are reported at the value", () => {
  assert.deepEqual(problems(lines(
    "executor = 1",
    'slurm = "big"',
    "[tasks.a]",
    'cmd = "x"',
    "executor = true",
    "[tasks.a.slurm]",
    'cpus = "2"',
    "mem = 4096",
    "time = 60",
    'args = "--exclusive"',
    "partition = [\"a\"]",
  )), [
    '1:12:1 error: Expected a string for "executor", found an integer',
    '2:9:5 error: Expected a table for "slurm", found a string',
    '5:12:4 error: Expected a string for "executor" in task "a", found a boolean',
    '7:8:3 error: Expected an integer for "cpus" in the slurm table of task "a", found a string',
    '8:7:4 error: Expected a string for "mem" in the slurm table of task "a", found an integer',
    '9:8:2 error: Expected a string for "time" in the slurm table of task "a", found an integer',
    '10:8:13 error: Expected an array of strings for "args" in the slurm table of task "a", found a string',
    '11:13:5 error: Expected a string for "partition" in the slurm table of task "a", found an array',
  ]);
});

test("bad values in slurm tables say what is expected", () => {
  assert.deepEqual(problems(lines(
    'executor = "ssh"',
    "[slurm]",
    "cpus = 0",
    'mem = "2.5G"',
    'time = "1d"',
    'qos = ""',
    'args = ["--exclusive", "--output=x.log", "-D", "/tmp", "--export=ALL"]',
    "[tasks.a]",
    'cmd = "x"',
    'executor = "Slurm"',
    "slurm = { cpus = 1.5 }",
  )), [
    '1:12:5 error: Invalid executor "ssh": expected "local" or "slurm"',
    '3:8:1 error: Invalid cpus 0 in [slurm]: expected a whole number, 1 or more',
    '4:7:6 error: Invalid mem "2.5G" in [slurm]: expected megabytes, or a number with K, M, G or T like "4G"',
    '5:8:4 error: Invalid duration "1d" for "time" in [slurm]: use Go style like "500ms", "30s", "5m" or "1h30m"',
    '6:7:2 error: Empty "qos" in [slurm]: name one or leave the key out',
    '7:24:16 error: Invalid sbatch argument "--output=x.log" in [slurm]: wf sets --output itself',
    '7:42:4 error: Invalid sbatch argument "-D" in [slurm]: wf sets --chdir itself',
    '7:56:14 error: Invalid sbatch argument "--export=ALL" in [slurm]: wf sets --export itself',
    '10:12:7 error: Invalid executor "Slurm" in task "a": expected "local" or "slurm"',
    '11:18:3 error: Invalid cpus 1.5 in the slurm table of task "a": expected a whole number, 1 or more',
  ]);
});

test("sbatchArgs: the keys in a fixed order, then args", () => {
  assert.deepEqual(
    sbatchArgs({ args: ["--exclusive", "--gres=gpu:1"], qos: "q", account: "a", timeMs: 90_000, mem: "4G", cpus: 4, partition: "p" }),
    ["--partition=p", "--cpus-per-task=4", "--mem=4G", "--time=00:01:30", "--account=a", "--qos=q", "--exclusive", "--gres=gpu:1"],
  );
  assert.deepEqual(sbatchArgs(undefined), []);
  assert.deepEqual(sbatchArgs({}), []);
});

test("sbatchArgs: the time limit is time, else the timeout; time 0 gives none", () => {
  assert.deepEqual(sbatchArgs(undefined, 600_000), ["--time=00:10:00"]);
  assert.deepEqual(sbatchArgs({ cpus: 1 }, 600_000), ["--cpus-per-task=1", "--time=00:10:00"]);
  assert.deepEqual(sbatchArgs({ timeMs: 3_600_000 }, 600_000), ["--time=01:00:00"]);
  assert.deepEqual(sbatchArgs({ timeMs: 0 }, 600_000), []);
});

test("slurmTime: HH:MM:SS under a day, D-HH:MM:SS above, rounded up to a second", () => {
  assert.equal(slurmTime(1), "00:00:01");
  assert.equal(slurmTime(1000), "00:00:01");
  assert.equal(slurmTime(1001), "00:00:02");
  assert.equal(slurmTime(59_000), "00:00:59");
  assert.equal(slurmTime(5_400_000), "01:30:00");
  assert.equal(slurmTime(86_399_000), "23:59:59");
  assert.equal(slurmTime(86_400_000), "1-00:00:00");
  assert.equal(slurmTime(((3 * 24 + 4) * 3600 + 5 * 60 + 6) * 1000), "3-04:05:06");
});
