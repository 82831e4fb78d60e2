/**
 * The Slurm executor against the real single-node test cluster (slurm.ts): tasks run as jobs
 * with the same outcome as locally, the scheduler's own records (jobcomp) show one job per
 * attempt, a wf killed with -9 is resumed without running a finished job again or submitting
 * a live one twice, a job cancelled from outside fails with the scheduler's reason, and a task
 * timeout ends its job. docs/slurm.md describes what is checked here.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { collect, type JournalLine, killGroup, repoRoot, type RunResult, TestRig, until } from "./rig.ts";
import { type SlurmCluster, slurmCluster, slurmSuite } from "./slurm.ts";

const slurm = await slurmCluster();

/** Three small examples of the twelve, with the outcomes compat.test.ts expects of them locally. */
const EXAMPLES: Record<string, { exitCode: number; nodes: number; notSucceeded: Record<string, string>; stderr: string }> = {
  "compliance-audit": { exitCode: 0, nodes: 12, notSucceeded: {}, stderr: "" },
  "cost-modeling": {
    exitCode: 0, nodes: 12, notSucceeded: { "deploy-infrastructure": "skipped", "alert-cost-variance": "skipped" },
    stderr: 'warning: Variable "audit_id" is needed by "alert-cost-variance" but nothing provides it: pass --var audit_id=VALUE (those tasks ignore failure, so they will fail without stopping the run)\n',
  },
  "order-processing": { exitCode: 0, nodes: 10, notSucceeded: {}, stderr: "" },
};

/** The jobcomp records of these job ids, once each has at least one: how many each has, and its state. */
async function records(cluster: SlurmCluster, ids: readonly string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  await until(`jobcomp records of jobs ${ids.join(", ")}`, async () => {
    const text = await readFile(cluster.jobcomp, "utf8").catch(() => "");
    found.clear();
    for (const line of text.split("\n")) {
      const id = /^JobId=(\d+) /.exec(line)?.[1];
      if (id === undefined || !ids.includes(id)) continue;
      const state = /JobState=(\S+)/.exec(line)?.[1] ?? "";
      found.set(id, [...(found.get(id) ?? []), state]);
    }
    return ids.every((id) => found.has(id));
  }, 60_000);
  return found;
}

/** Job ids journaled on task_spawned lines, in order. */
function jobIds(journal: readonly JournalLine[]): string[] {
  return journal.filter((l) => l.type === "task_spawned").map((l) => String(l["job_id"]));
}

/** A Slurm client command against the cluster. */
function client(cluster: SlurmCluster, args: string[]): Promise<RunResult> {
  const child = spawn(args[0]!, args.slice(1), { env: { ...process.env, ...cluster.env }, stdio: ["pipe", "pipe", "pipe"], detached: true });
  return collect(child, { timeoutMs: 60_000 });
}

/** The job id journaled for `task`, once its task_spawned line is there. */
async function journaledJob(rig: TestRig, task: string): Promise<string> {
  let id: string | undefined;
  await until(`the job id of ${task}`, async () => {
    const runId = (await rig.runIds()).at(-1);
    if (runId === undefined) return false;
    const line = (await rig.journal(runId).catch(() => [])).findLast((l) => l.type === "task_spawned" && l["task"] === task);
    id = typeof line?.["job_id"] === "string" ? line["job_id"] : undefined;
    return id !== undefined;
  }, 60_000);
  return id!;
}

test("--executor takes local or slurm, and nothing else", async () => {
  await using rig = await TestRig.create();
  await rig.write("w.toml", ['name = "w"', "[tasks.one]", 'cmd = "true"', ""].join("\n"));
  const r = await rig.run(["run", "w.toml", "--executor", "pbs"]);
  assert.equal(r.stderr, 'Invalid --executor "pbs": expected one of local, slurm\n');
  assert.equal(r.code, 2);
  assert.deepEqual(await rig.runIds(), []);
});

slurmSuite("the Slurm executor", slurm, (cluster) => {
  for (const [name, expected] of Object.entries(EXAMPLES)) {
    test(`${name} runs with --executor slurm to the outcome it has locally, one Slurm job per attempt`, { timeout: 300_000 }, async () => {
      await using rig = await TestRig.create();
      const file = `${name}.toml`;
      await rig.write(file, readFileSync(join(repoRoot(), "fixtures", "wf-examples", file), "utf8"));
      const run = await rig.run(["run", file, "--executor", "slurm", "--work-stealing", "--quiet"], { env: cluster.env, timeoutMs: 240_000 });
      assert.equal(run.code, expected.exitCode, `${run.stdout}\n${run.stderr}`);
      assert.equal(run.stderr, expected.stderr);
      const journal = await rig.journal(await rig.lastRunId());
      const states = new Map<string, string>();
      for (const l of journal) {
        if (l.type === "task_finished" && l["will_retry"] === false && l["forensic_for"] === undefined) states.set(String(l["task"]), String(l["state"]));
        if (l.type === "task_skipped") states.set(String(l["task"]), "skipped");
      }
      assert.equal(states.size, expected.nodes);
      for (const [task, state] of states) assert.equal(state, expected.notSucceeded[task] ?? "succeeded", `task ${task}`);
      const started = journal.filter((l) => l.type === "task_started");
      assert.ok(started.length > 0);
      for (const l of started) assert.equal(l["executor"], "slurm", `task_started of ${String(l["task"])}`);
      // One job per attempt: each attempt has its own job id, and the scheduler recorded each job once.
      const ids = jobIds(journal);
      assert.equal(ids.length, started.length);
      assert.equal(new Set(ids).size, ids.length);
      const recs = await records(cluster, ids);
      for (const id of ids) assert.deepEqual(recs.get(id), ["COMPLETED"], `job ${id}`);
    });
  }

  test("kill -9 of wf while jobs are queued and running, then wf resume: no finished job runs again, no live job is submitted twice, the run succeeds", { timeout: 300_000 }, async () => {
    await using rig = await TestRig.create();
    // Three jobs at once on a node with fewer CPUs: some run, the rest wait in the queue.
    await rig.write("w.toml", [
      'name = "killed"', 'executor = "slurm"',
      '[tasks.first]', 'cmd = "echo first"',
      '[tasks.a]', 'cmd = "sleep 3; echo a"', 'depends_on = ["first"]',
      '[tasks.b]', 'cmd = "sleep 3; echo b"', 'depends_on = ["first"]',
      '[tasks.c]', 'cmd = "sleep 3; echo c"', 'depends_on = ["first"]',
      '[tasks.last]', 'cmd = "echo last"', 'depends_on = ["a", "b", "c"]', "",
    ].join("\n"));
    const child = rig.spawn(["run", "w.toml", "--work-stealing", "--max-parallel", "3"], { env: cluster.env });
    const ended = collect(child, { timeoutMs: 120_000 });
    for (const task of ["a", "b", "c"]) await journaledJob(rig, task);
    killGroup(child, "SIGKILL");
    await ended;
    const runId = await rig.lastRunId();
    const killed = await rig.journal(runId);
    const before = jobIds(killed);
    // Each of a, b and c is waited for (its job still queued or running) or adopted (it has ended since).
    const plan = await rig.run(["resume", runId, "--dry-run"], { env: cluster.env });
    assert.equal(plan.code, 0, plan.stderr);
    for (const task of ["a", "b", "c"]) {
      const id = String(killed.find((l) => l.type === "task_spawned" && l["task"] === task)?.["job_id"]);
      assert.match(
        plan.stdout,
        new RegExp(`\\n  (wait ${task} \\(its Slurm job ${id} is still (PENDING|RUNNING|COMPLETING)\\)|adopt ${task} \\(its job ended while no wf was running: exit status 0\\))\\n`),
      );
    }

    const resumed = await rig.run(["resume", runId, "--quiet"], { env: cluster.env, timeoutMs: 120_000 });
    assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
    assert.equal(resumed.stderr, "");
    const journal = await rig.journal(runId);
    const started = journal.filter((l) => l.type === "task_started").map((l) => String(l["task"]));
    // Each task started once: a, b and c were adopted or waited for, never submitted again.
    assert.deepEqual([...started].sort(), ["a", "b", "c", "first", "last"]);
    assert.deepEqual(journal.at(-1)?.["status"], "success");
    for (const task of ["a", "b", "c"]) {
      const finished = journal.filter((l) => l.type === "task_finished" && l["task"] === task);
      assert.equal(finished.length, 1, `task ${task}`);
      assert.equal(finished[0]!["adopted"], true, `task ${task}`);
    }
    const ids = jobIds(journal);
    assert.deepEqual(ids.slice(0, before.length), before);
    assert.equal(ids.length, 5);
    // The scheduler ran exactly the journaled jobs, once each.
    const recs = await records(cluster, ids);
    for (const id of ids) assert.deepEqual(recs.get(id), ["COMPLETED"], `job ${id}`);
    const all = (await readFile(cluster.jobcomp, "utf8")).split("\n").filter((l) => l.includes(` Name=wf-${runId}-`));
    assert.equal(all.length, 5, all.join("\n"));
  });

  test("a job cancelled with scancel from outside fails with the scheduler's reason, its forensic task runs, and the run can be resumed", { timeout: 300_000 }, async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", [
      'name = "cancelled"', 'executor = "slurm"',
      '[tasks.long]', 'cmd = "echo started; sleep 120"', 'on_failure = "inspect"',
      '[tasks.inspect]', 'type = "forensic"', 'cmd = \'echo "inspecting $WF_VAR_failed_task"\'', "",
    ].join("\n"));
    const child = rig.spawn(["run", "w.toml"], { env: cluster.env });
    const ended = collect(child, { timeoutMs: 120_000 });
    const id = await journaledJob(rig, "long");
    await until(`job ${id} running`, async () => (await rig.read(join("state", "runs", await rig.lastRunId(), "logs", "long.1.stdout.log")).catch(() => "")) !== "", 60_000);
    const cancelled = await client(cluster, ["scancel", id]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const run = await ended;
    const runId = await rig.lastRunId();
    // Then the tail of the job's stderr, when its log has anything by then: Slurm's own line about the
    // cancel ("slurmstepd-<node>: error: *** JOB <id> ON <node> CANCELLED AT <time> ***"), and the
    // job's shell may add "Terminated".
    const cut = `(: [^\\n]+(\\n.*)*)?`;
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^✗ long \\(failed: cancelled by the scheduler \\(CANCELLED\\)${cut}, attempt 1/1\\)\\n`));
    assert.match(run.stdout, /\n✓ inspect \(forensic for "long", succeeded in \d+(\.\d)?s\)\n/);
    const journal = await rig.journal(runId);
    const finished = journal.find((l) => l.type === "task_finished" && l["task"] === "long");
    assert.match(String(finished?.["error"]), new RegExp(`^cancelled by the scheduler \\(CANCELLED\\)${cut}$`));
    assert.equal(finished?.["timed_out"], false);
    const forensic = journal.find((l) => l.type === "task_finished" && l["task"] === "inspect");
    assert.equal(forensic?.["forensic_for"], "long");
    assert.equal(forensic?.["state"], "succeeded");
    assert.equal(await rig.read(join("state", "runs", runId, "logs", "inspect.1.stdout.log")), "inspecting long\n");
    const plan = await rig.run(["resume", runId, "--dry-run"], { env: cluster.env });
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.stdout, `Run "${runId}" of "cancelled" (failed): 1 of 1 tasks would run\n  run  long (failed)\n`);
    assert.deepEqual(await records(cluster, [id]).then((r) => r.get(id)), ["CANCELLED"]);
  });

  test("SIGINT cancels the run's jobs with scancel, journals their attempts as failed, and the run as cancelled", { timeout: 300_000 }, async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", ['name = "interrupted"', 'executor = "slurm"', "[tasks.x]", 'cmd = "sleep 120"', "[tasks.y]", 'cmd = "sleep 120"', ""].join("\n"));
    const child = rig.spawn(["run", "w.toml", "--parallel", "--quiet"], { env: cluster.env });
    const ended = collect(child, { timeoutMs: 120_000 });
    const ids = [await journaledJob(rig, "x"), await journaledJob(rig, "y")];
    process.kill(child.pid!, "SIGINT"); // not child.kill(): Deno then reports no exit code
    const run = await ended;
    assert.equal(run.code, 130, `${run.stdout}\n${run.stderr}`);
    const journal = await rig.journal(await rig.lastRunId());
    for (const [task, id] of [["x", ids[0]], ["y", ids[1]]] as const) {
      const finished = journal.find((l) => l.type === "task_finished" && l["task"] === task);
      assert.equal(finished?.["state"], "failed");
      // Or, when the command died of the SIGTERM before the job's script did, the exit status the script recorded.
      // Its tail: slurmstepd's notice and the script's shell's "Terminated", in either order, or neither.
      const tail = `(slurmstepd-\\S+: error: \\*\\*\\* JOB ${id} ON \\S+ CANCELLED AT \\S+ \\*\\*\\*|Terminated)`;
      assert.match(String(finished?.["error"]), new RegExp(`^(its Slurm job was cancelled by wf \\(CANCELLED\\)|exit status 143)(: ${tail}(\\n${tail})*)?$`));
    }
    assert.equal(journal.at(-1)?.["status"], "cancelled");
    const recs = await records(cluster, ids);
    for (const id of ids) assert.deepEqual(recs.get(id), ["CANCELLED"], `job ${id}`);
  });

  test("a task timeout shorter than its job ends the job, and the attempt is journaled as timed out", { timeout: 300_000 }, async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", ['name = "slow"', 'executor = "slurm"', "[tasks.slow]", 'cmd = "echo going; sleep 120"', 'timeout = "2s"', ""].join("\n"));
    const run = await rig.run(["run", "w.toml", "--quiet"], { env: cluster.env, timeoutMs: 120_000 });
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    const runId = await rig.lastRunId();
    const journal = await rig.journal(runId);
    const [id] = jobIds(journal);
    const finished = journal.find((l) => l.type === "task_finished" && l["task"] === "slow");
    assert.equal(finished?.["timed_out"], true);
    // scancel's SIGTERM reaches the job's script and the command in no set order: the script dies
    // with it (no status file: exit_code null), or first sees the command die and writes 143.
    assert.ok(finished?.["exit_code"] === null || finished?.["exit_code"] === 143, String(finished?.["exit_code"]));
    // The tail is what the job printed to stderr after: slurmstepd's notice and, when the script's shell
    // saw its command die of the SIGTERM first, its "Terminated", in either order.
    const tail = `(slurmstepd-\\S+: error: \\*\\*\\* JOB ${id} ON \\S+ CANCELLED AT \\S+ \\*\\*\\*|Terminated)`;
    assert.match(String(finished?.["error"]), new RegExp(`^timed out after 2s(: ${tail}(\\n${tail})*)?$`));
    // Ended by wf's scancel, well before its own time limit (one minute, Slurm's smallest).
    assert.deepEqual(await records(cluster, [id!]).then((r) => r.get(id!)), ["CANCELLED"]);
  });

  test("a workflow on Slurm whose state directory the compute nodes cannot write stops before any task starts, leaving no run", { timeout: 120_000 }, async () => {
    await using rig = await TestRig.create();
    // Jobs run as "nobody", who cannot write to the state directory (0700, root's): as on a node that does not share it.
    await rig.write("w.toml", ['name = "hidden"', 'executor = "slurm"', "[slurm]", 'args = ["--uid=nobody"]', "[tasks.one]", 'cmd = "echo one"', ""].join("\n"));
    const run = await rig.run(["run", "w.toml"], { env: cluster.env });
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      `Cannot run tasks on Slurm: a first job could not write to "${join(rig.stateDir, "runs")}", which the compute nodes must share with this host: it ended (COMPLETED) without writing its file\n`,
    );
    assert.equal(run.code, 1);
    assert.deepEqual(await rig.runIds(), []);
  });
});
