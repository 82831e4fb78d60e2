import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeId } from "../../../src/graph/dag.ts";
import { dagOf, settle, start } from "./fakes.ts";

const OVERLAP = `
[tasks.long]
cmd = "long"
[tasks.short]
cmd = "short"
[tasks.after-long]
cmd = "x"
depends_on = ["long"]
[tasks.after-short]
cmd = "y"
depends_on = ["short"]
`;

describe("execute()", () => {
  test("work-stealing starts a task as soon as its dependencies have ended", async () => {
    const run = start(dagOf(OVERLAP), { mode: "work-stealing", manual: true });
    await settle();
    assert.deepEqual(run.spawner.running().sort(), ["long", "short"]);
    run.spawner.end("short");
    await settle();
    assert.deepEqual(run.spawner.running().sort(), ["after-short", "long"]);
    run.spawner.end("long");
    await settle();
    run.spawner.end("after-short");
    run.spawner.end("after-long");
    assert.equal((await run.done).status, "success");
  });

  test("level-parallel waits for the whole level before starting the next", async () => {
    const run = start(dagOf(OVERLAP), { mode: "parallel", manual: true });
    await settle();
    run.spawner.end("short");
    await settle();
    assert.deepEqual(run.spawner.running(), ["long"], "after-short must wait for the level barrier");
    run.spawner.end("long");
    await settle();
    assert.deepEqual(run.spawner.running().sort(), ["after-long", "after-short"]);
    run.spawner.end("after-long");
    run.spawner.end("after-short");
    assert.equal((await run.done).status, "success");
  });

  test("sequential runs one task at a time in topological order", async () => {
    const run = start(dagOf(OVERLAP), { mode: "sequential", maxParallel: 8, manual: true });
    for (const task of ["long", "short", "after-long", "after-short"]) {
      await settle();
      assert.deepEqual(run.spawner.running(), [task]);
      run.spawner.end(task);
    }
    assert.equal((await run.done).status, "success");
  });

  test("--max-parallel bounds the tasks running at once", async () => {
    const dag = dagOf(["a", "b", "c", "d"].map((t) => `[tasks.${t}]\ncmd = "${t}"\n`).join(""));
    const run = start(dag, { mode: "work-stealing", maxParallel: 2, manual: true });
    await settle();
    assert.equal(run.spawner.running().length, 2);
    for (const t of ["a", "b", "c", "d"]) {
      await settle();
      if (run.spawner.running().includes(t)) run.spawner.end(t);
    }
    await settle();
    for (const t of run.spawner.running()) run.spawner.end(t);
    await settle();
    for (const t of run.spawner.running()) run.spawner.end(t);
    assert.equal((await run.done).status, "success");
  });

  test("a failure cancels descendants with the reason, runs its forensic task once, then the workflow's", async () => {
    const dag = dagOf(`
on_failure = "alert"
[tasks.a]
cmd = "a"
[tasks.b]
cmd = "b"
depends_on = ["a"]
on_failure = "collect"
[tasks.c]
cmd = "c"
depends_on = ["b"]
[tasks.collect]
type = "forensic"
cmd = "collect {{.failed_task}} {{.error_message}}"
[tasks.alert]
type = "forensic"
cmd = "alert {{.failed_task}}"
`);
    const run = start(dag);
    run.spawner.scripted.set("a", [{ exitCode: 0 }]);
    run.spawner.scripted.set("b", [{ exitCode: 2, stderrTail: "connection refused" }]);
    const outcome = await run.done;
    assert.equal(outcome.status, "failed");
    assert.deepEqual(outcome.failed, ["b"]);
    assert.equal(outcome.states.get("c" as NodeId), "cancelled");
    const cancelled = run.journal.records.find((r) => r.type === "task_cancelled");
    assert.deepEqual(cancelled && { task: cancelled.task, reason: cancelled.reason }, { task: "c", reason: 'dependency "b" failed' });
    const cmds = run.spawner.specs.map((s) => s.cmd);
    assert.deepEqual(cmds, ["a", "b", "collect b exit status 2: connection refused", "alert b"]);
    const forensic = run.journal.records.filter((r) => r.type === "task_started" && r.forensic_for !== undefined);
    assert.deepEqual(forensic.map((r) => r.type === "task_started" && [r.task, r.forensic_for]), [["collect", "b"], ["alert", "*"]]);
  });

  test("fail-fast cancels unrelated pending tasks; --keep-going runs them", async () => {
    const toml = `
[tasks.bad]
cmd = "bad"
[tasks.child]
cmd = "child"
depends_on = ["bad"]
[tasks.other]
cmd = "other"
`;
    const fast = start(dagOf(toml));
    fast.spawner.scripted.set("bad", [{ exitCode: 1 }]);
    const o1 = await fast.done;
    assert.equal(o1.states.get("other" as NodeId), "cancelled");
    const reason = fast.journal.records.find((r) => r.type === "task_cancelled" && r.task === "other");
    assert.equal(reason?.type === "task_cancelled" && reason.reason, 'run stopped after "bad" failed');

    const going = start(dagOf(toml), { keepGoing: true });
    going.spawner.scripted.set("bad", [{ exitCode: 1 }]);
    going.spawner.scripted.set("other", [{ exitCode: 0 }]);
    const o2 = await going.done;
    assert.equal(o2.status, "failed");
    assert.equal(o2.states.get("other" as NodeId), "succeeded");
    assert.equal(o2.states.get("child" as NodeId), "cancelled");
  });

  test("ignore_failure lets dependents run and the run succeed", async () => {
    const run = start(dagOf(`
[tasks.flaky]
cmd = "f"
ignore_failure = true
[tasks.next]
cmd = "n"
depends_on = ["flaky"]
`));
    run.spawner.scripted.set("flaky", [{ exitCode: 1 }]);
    run.spawner.scripted.set("next", [{ exitCode: 0 }]);
    const outcome = await run.done;
    assert.equal(outcome.status, "success");
    assert.equal(outcome.states.get("next" as NodeId), "succeeded");
    const finished = run.journal.records.find((r) => r.type === "task_finished" && r.task === "flaky");
    assert.equal(finished?.type === "task_finished" && finished.ignored, true);
  });

  test("a false if skips the task and its dependents still run", async () => {
    const run = start(dagOf(`
[vars]
ENV = "dev"
[tasks.deploy]
cmd = "d"
if = 'ENV == "prod"'
[tasks.report]
cmd = "r"
depends_on = ["deploy"]
`));
    run.spawner.scripted.set("report", [{ exitCode: 0 }]);
    const outcome = await run.done;
    assert.equal(outcome.states.get("deploy" as NodeId), "skipped");
    assert.equal(outcome.states.get("report" as NodeId), "succeeded");
    assert.deepEqual(run.journal.trail, ["task_skipped:deploy", "task_started:report", "task_finished:report"]);
  });

  test("a registered variable is durable before its dependent starts and reaches its cmd and env", async () => {
    const run = start(
      dagOf(`
[tasks.version]
cmd = "v"
register = "version"
[tasks.build]
cmd = "build {{.version}} {{.run_id}}"
depends_on = ["version"]
clean_env = true
env = { TAG = "t-{{.version}}" }
`),
      { mode: "work-stealing" },
    );
    run.spawner.scripted.set("version", [{ exitCode: 0, lastStdoutLine: "v1.2.3" }]);
    run.spawner.scripted.set("build", [{ exitCode: 0 }]);
    await run.done;
    assert.deepEqual(run.journal.trail, [
      "task_started:version",
      "var_registered:version",
      "task_finished:version",
      "task_started:build",
      "task_finished:build",
    ]);
    const build = run.spawner.specs[1]!;
    assert.equal(build.cmd, "build v1.2.3 testrun");
    assert.equal(build.env["WF_VAR_version"], "v1.2.3");
    assert.equal(build.env["TAG"], "t-v1.2.3");
    assert.equal(build.env["WF_TASK_ID"], "build");
    assert.equal(build.env["WF_ATTEMPT"], "1");
    assert.equal(build.env["SECRET"], undefined, "clean_env drops the inherited environment");
    assert.equal(build.env["PATH"], "/usr/bin:/bin", "clean_env keeps PATH");
  });

  test("retries wait retry_delay and count attempts; the last failure is final", async () => {
    const run = start(dagOf(`
[tasks.flaky]
cmd = "f"
retries = 2
retry_delay = "5s"
`));
    run.spawner.scripted.set("flaky", [{ exitCode: 1 }, { exitCode: 1 }, { exitCode: 0 }]);
    const outcome = await run.done;
    assert.equal(outcome.status, "success");
    assert.deepEqual(run.sleeps, [5000, 5000]);
    const finished = run.journal.records.filter((r) => r.type === "task_finished");
    assert.deepEqual(finished.map((r) => r.type === "task_finished" && [r.attempt, r.state, r.will_retry]), [
      [1, "failed", true],
      [2, "failed", true],
      [3, "succeeded", false],
    ]);
  });

  test("an abort stops running tasks and cancels the rest with its reason", async () => {
    const run = start(dagOf(`
on_failure = "alert"
[tasks.a]
cmd = "a"
[tasks.b]
cmd = "b"
depends_on = ["a"]
[tasks.alert]
type = "forensic"
cmd = "alert"
`), { manual: true });
    await settle();
    run.abort.abort("interrupted by SIGINT");
    const outcome = await run.done;
    assert.equal(outcome.status, "cancelled");
    assert.deepEqual(run.journal.trail, ["task_started:a", "task_finished:a", "task_cancelled:b"]);
    const cancelled = run.journal.records.at(-1);
    assert.equal(cancelled?.type === "task_cancelled" && cancelled.reason, "interrupted by SIGINT");
  });

  test("prior state: done tasks are not run, variables are restored, attempts go on counting", async () => {
    const dag = dagOf(`
[tasks.version]
cmd = "v"
register = "version"
[tasks.build]
cmd = "build {{.version}}"
depends_on = ["version"]
`);
    const run = start(dag, {}, {
      done: new Set(["version" as NodeId]),
      vars: new Map([["version", "v9"]]),
      attempts: new Map([["build", 2]]),
    });
    run.spawner.scripted.set("build", [{ exitCode: 0 }]);
    await run.done;
    assert.deepEqual(run.spawner.specs.map((s) => s.cmd), ["build v9"]);
    const started = run.journal.records.find((r) => r.type === "task_started");
    assert.equal(started?.type === "task_started" && started.attempt, 3);
  });

  test("a task whose variable nobody set fails before its command starts", async () => {
    const run = start(dagOf(`
[tasks.audit]
cmd = "audit {{.audit_id}}"
ignore_failure = true
`));
    const outcome = await run.done;
    assert.equal(outcome.status, "success");
    assert.deepEqual(run.spawner.specs, []);
    const finished = run.journal.records.find((r) => r.type === "task_finished");
    assert.equal(finished?.type === "task_finished" && finished.error, 'Variable "audit_id" is not set: pass --var audit_id=VALUE');
  });
});

describe("execute() when the journal cannot be written", () => {
  for (const mode of ["sequential", "parallel", "work-stealing"] as const) {
    test(`${mode}: returns the journal-write failure, ends running attempts and starts nothing more`, async () => {
      const run = start(dagOf(OVERLAP), { mode, manual: true });
      await settle();
      const before = run.spawner.running();
      assert.ok(before.length > 0);
      // The next line written (a task's end) fails, as on a full disk.
      run.journal.failOn = new Set(["task_finished"]);
      run.spawner.end(before[0]!);
      const result = await run.result;
      assert.deepEqual(result, { ok: false, error: { kind: "journal-write", path: "/tmp/run/journal.jsonl", problem: "disk-full" } });
      assert.deepEqual(run.spawner.running(), [], "every running attempt was ended through the abort signal");
      assert.ok(!run.spawner.log.includes("start:after-long") && !run.spawner.log.includes("start:after-short"));
      assert.ok(run.journal.records.every((r) => r.type !== "task_finished" && r.type !== "task_cancelled"));
    });
  }

  test("a failed task_started line means the attempt's process is never started", async () => {
    const run = start(dagOf(OVERLAP), { mode: "work-stealing", journalFailsOn: ["task_started"] });
    const result = await run.result;
    assert.equal(result.ok, false);
    assert.deepEqual(run.spawner.log, []);
  });
});

describe("execute() and what the journal keeps", () => {
  test("a --var value reaches the command but the journal keeps its {{.name}} placeholder", async () => {
    const dag = dagOf(`
[vars]
region = "eu"
[tasks.deploy]
cmd = "deploy --token {{.token}} --region {{.region}}"
`);
    const run = start(dag, { cliVars: { token: "s3cr3t-value" } });
    assert.equal((await run.done).status, "success");
    assert.equal(run.spawner.specs[0]!.cmd, "deploy --token s3cr3t-value --region eu");
    const started = run.journal.records.find((r) => r.type === "task_started");
    assert.equal(started?.type === "task_started" ? started.cmd : undefined, "deploy --token {{.token}} --region eu");
    assert.ok(!JSON.stringify(run.journal.records).includes("s3cr3t-value"));
  });

  test("a log that could not be written is on the finished line and in a warning; the attempt keeps its state", async () => {
    const run = start(dagOf(`[tasks.a]\ncmd = "a"\n`));
    run.spawner.scripted.set("a", [{ exitCode: 0, logError: { path: "/tmp/run/logs/a.1.stdout.log", problem: "disk-full" } }]);
    assert.equal((await run.done).status, "success");
    const finished = run.journal.records.find((r) => r.type === "task_finished");
    assert.equal(finished?.type === "task_finished" ? finished.log_error : undefined, "disk-full");
    assert.equal(finished?.type === "task_finished" ? finished.state : undefined, "succeeded");
    assert.deepEqual(run.warnings, ['Cannot write the log of task "a" to "/tmp/run/logs/a.1.stdout.log": the disk is full']);
  });
});
