/** `wf run` through the real CLI: exit codes, terminal lines and journal lines. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import process from "node:process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { decodeLine } from "../../src/journal/line.ts";
import { isAlive } from "../../src/platform/process.ts";
import { cliCommand, collect, type JournalLine, TestRig, until } from "./rig.ts";

const PIPELINE = `
name = "pipeline"
on_failure = "alert"

[tasks.lint]
cmd = "echo lint ok"

[tasks.version]
cmd = "echo v1.2.3"
register = "version"

[tasks.test]
cmd = "echo 'connection refused' >&2; exit 1"
depends_on = ["lint", "version"]
on_failure = "collect"

[tasks.build]
cmd = "echo build {{.version}}"
depends_on = ["test"]

[tasks.deploy]
cmd = "echo deploy"
depends_on = ["build"]

[tasks.collect]
type = "forensic"
cmd = "echo \\"collect failed_task={{.failed_task}} error={{.error_message}}\\" >> forensic.log"

[tasks.alert]
type = "forensic"
cmd = "echo \\"alert failed_task={{.failed_task}} $WF_VAR_version\\" >> forensic.log"
`;

/** The final outcome line of every node: its last task_finished, task_skipped or task_cancelled. */
function outcomes(journal: JournalLine[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of journal) {
    if (line["forensic_for"] !== undefined) continue;
    if (line.type === "task_finished" && line["will_retry"] === false) out[String(line["task"])] = String(line["state"]);
    if (line.type === "task_skipped") out[String(line["task"])] = "skipped";
    if (line.type === "task_cancelled") out[String(line["task"])] = "cancelled";
  }
  return out;
}

describe("wf run", { concurrency: 2 }, () => {
  test("a successful run prints one line per task, the completion line, and exits 0", async () => {
    await using rig = await TestRig.create();
    await rig.write("ok.toml", `
name = "ok"
[tasks.version]
cmd = "echo v1.2.3"
register = "version"
[tasks.build]
cmd = "echo built {{.version}} $WF_VAR_version $WF_TASK_ID $WF_ATTEMPT > out.txt"
depends_on = ["version"]
[tasks.deploy]
cmd = "exit 1"
if = 'version == "v0"'
depends_on = ["build"]
`);
    const r = await rig.run(["run", "ok.toml"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0]!, /^✓ version \(succeeded in \d+(\.\d)?s\)$/);
    assert.match(lines[1]!, /^✓ build \(succeeded in \d+(\.\d)?s\)$/);
    assert.equal(lines[2], `→ deploy (skipped: condition is false: version == "v0")`);
    assert.match(lines[3]!, /^✓ ok completed in \d+(\.\d)?s$/);
    assert.equal(lines.length, 4);
    assert.equal(await rig.read("out.txt"), "built v1.2.3 v1.2.3 build 1\n");
    const journal = await rig.journal(await rig.lastRunId());
    assert.deepEqual(outcomes(journal), { version: "succeeded", build: "succeeded", deploy: "skipped" });
    assert.deepEqual(journal.at(-1)?.["status"], "success");
  });

  test("a failing task exits 1, cancels its descendants, runs its forensic task once, and names the resume command", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", PIPELINE);
    const r = await rig.run(["run", "pipeline.toml"]);
    assert.equal(r.code, 1);
    const id = await rig.lastRunId();
    const lines = r.stdout.trim().split("\n");
    assert.ok(lines.includes("✗ test (failed: exit 1, attempt 1/1)"), r.stdout);
    assert.ok(lines.includes('✗ build (cancelled: dependency "test" failed)'), r.stdout);
    assert.ok(lines.includes('✗ deploy (cancelled: dependency "test" failed)'), r.stdout);
    assert.match(lines.at(-1)!, new RegExp(`^✗ pipeline failed in \\d+(\\.\\d)?s \\(task "test" failed: exit status 1: [^)]*\\)\\. Resume with: wf resume ${id}$`));
    assert.equal(
      await rig.read("forensic.log"),
      "collect failed_task=test error=exit status 1: connection refused\nalert failed_task=test v1.2.3\n",
    );
    const journal = await rig.journal(id);
    assert.deepEqual(outcomes(journal), {
      lint: "succeeded", version: "succeeded", test: "failed", build: "cancelled", deploy: "cancelled",
    });
    const failed = journal.find((l) => l.type === "task_finished" && l["task"] === "test")!;
    assert.equal(failed["exit_code"], 1);
    assert.equal(failed["error"], "exit status 1: connection refused");
    const forensic = journal.filter((l) => l.type === "task_started" && l["forensic_for"] !== undefined);
    assert.deepEqual(forensic.map((l) => [l["task"], l["forensic_for"]]), [["collect", "test"], ["alert", "*"]]);
    assert.equal(journal.at(-1)?.["status"], "failed");
  });

  for (const mode of ["--parallel", "--work-stealing"]) {
    test(`${mode}: the same failure gives the same outcome`, async () => {
      await using rig = await TestRig.create();
      await rig.write("pipeline.toml", PIPELINE);
      const r = await rig.run(["run", "pipeline.toml", mode, "--max-parallel", "3"]);
      assert.equal(r.code, 1);
      const journal = await rig.journal(await rig.lastRunId());
      assert.deepEqual(outcomes(journal), {
        lint: "succeeded", version: "succeeded", test: "failed", build: "cancelled", deploy: "cancelled",
      });
      const started = journal.find((l) => l.type === "run_started")!;
      assert.equal(started["mode"], mode.slice(2));
      assert.equal(started["max_parallel"], 3);
    });
  }

  test("every journal line carries a contiguous seq and a valid CRC; files are private", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", PIPELINE);
    await rig.run(["run", "pipeline.toml", "--var", "SECRET_NAME=hunter2"]);
    const id = await rig.lastRunId();
    const text = await rig.journalText(id);
    const lines = text.split("\n").filter((l) => l !== "");
    lines.forEach((line, i) => {
      const decoded = decodeLine(line);
      assert.ok(decoded.ok, `line ${i + 1}: ${decoded.ok ? "" : decoded.error}`);
      assert.equal(decoded.value.seq, i);
    });
    assert.ok(!text.includes("hunter2"), "--var values never enter the journal");
    const started = JSON.parse(lines[1]!);
    assert.deepEqual(started.var_names, ["SECRET_NAME"]);
    const runDir = join(rig.stateDir, "runs", id);
    assert.equal((await stat(runDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(runDir, "journal.jsonl"))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(runDir, "workflow.toml"), "utf8"), PIPELINE);
    const log = await readFile(join(runDir, "logs", "test.1.stderr.log"), "utf8");
    assert.equal(log, "connection refused\n");
  });

  test("--json prints every journal record as one JSON object per line", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", PIPELINE);
    const r = await rig.run(["run", "pipeline.toml", "--json"]);
    assert.equal(r.code, 1);
    const printed = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const journal = await rig.journal(await rig.lastRunId());
    // Every record but the header appears, in journal order.
    assert.deepEqual(printed, journal.slice(1));
  });

  test("--quiet prints only failures and the final line", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", PIPELINE);
    const r = await rig.run(["run", "pipeline.toml", "--quiet"]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines[0], "✗ test (failed: exit 1, attempt 1/1)");
    assert.equal(lines[1], "    exit status 1: connection refused");
    assert.match(lines[2]!, /^✗ pipeline failed in .*Resume with: wf resume /);
    assert.equal(lines.length, 3);
  });

  test("--print-output shows task output prefixed with the task id", async () => {
    await using rig = await TestRig.create();
    await rig.write("p.toml", `[tasks.hello]\ncmd = "echo one; echo two >&2"\n`);
    const r = await rig.run(["run", "p.toml", "--print-output"]);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.includes("[hello] one\n"), r.stdout);
    assert.ok(r.stdout.includes("[hello] two\n"), r.stdout);
  });

  test("--dry-run prints the plan and writes nothing", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", PIPELINE);
    const r = await rig.run(["run", "pipeline.toml", "--dry-run", "--parallel"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, [
      'Workflow "pipeline": 5 tasks, mode parallel, at most 4 at once',
      "  level 1:",
      "    lint",
      "    version",
      "  level 2:",
      "    test (on_failure collect) after lint, version",
      "  level 3:",
      "    build after test",
      "  level 4:",
      "    deploy after build",
      "  on failure: collect, alert",
      "",
    ].join("\n"));
    assert.deepEqual(await rig.runIds(), []);
  });

  test("a task timeout ends its whole process group", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `[tasks.slow]\ncmd = "(sleep 5; echo leaked > leaked.txt) & sleep 5"\ntimeout = "300ms"\n`);
    const r = await rig.run(["run", "t.toml"]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes("✗ slow (failed: timed out, attempt 1/1)"), r.stdout);
    const finished = (await rig.journal(await rig.lastRunId())).find((l) => l.type === "task_finished")!;
    assert.equal(finished["timed_out"], true);
    assert.equal(finished["signal"], "SIGTERM");
    await new Promise((r) => setTimeout(r, 5500));
    await assert.rejects(rig.read("leaked.txt"), "the backgrounded child was ended with its group");
  });

  test("--timeout cancels the run and records why", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `[tasks.a]\ncmd = "sleep 10"\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n`);
    // Long enough for a to have started under load: the timeout counts from before the run's first lines.
    const r = await rig.run(["run", "t.toml", "--timeout", "2s"]);
    assert.equal(r.code, 1);
    const journal = await rig.journal(await rig.lastRunId());
    assert.deepEqual(outcomes(journal), { a: "failed", b: "cancelled" });
    assert.equal(journal.at(-1)?.["status"], "cancelled");
    assert.equal(journal.at(-1)?.["reason"], "run timed out after 2s");
  });

  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    test(`${signal} stops running tasks, journals everything and exits ${code}`, async () => {
      await using rig = await TestRig.create();
      await rig.write("t.toml", `[tasks.a]\ncmd = "echo started > started.txt; sleep 20"\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n`);
      const child = rig.spawn(["run", "t.toml"]);
      const closed = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      await rig.waitForFile("started.txt");
      process.kill(child.pid!, signal); // not child.kill(): Deno then reports no exit code
      assert.equal(await closed, code);
      const journal = await rig.journal(await rig.lastRunId());
      assert.deepEqual(outcomes(journal), { a: "failed", b: "cancelled" });
      assert.equal(journal.find((l) => l.type === "task_finished")?.["signal"], "SIGTERM");
      assert.equal(journal.at(-1)?.["status"], "cancelled");
      assert.equal(journal.at(-1)?.["reason"], `interrupted by ${signal}`);
    });
  }

  test("--exclusive refuses a second run of the same workflow while one is active", async () => {
    await using rig = await TestRig.create();
    // The first run's task lasts until the second run has been refused (stop), however slow the machine.
    await rig.write("t.toml", `name = "nightly"\n[tasks.a]\ncmd = "touch started.txt; for i in $(seq 600); do test -f stop && break; sleep 0.1; done"\n`);
    const first = rig.spawn(["run", "t.toml", "--exclusive"]);
    const closed = new Promise<number | null>((resolve) => first.on("close", (c) => resolve(c)));
    await rig.waitForFile("started.txt");
    const second = await rig.run(["run", "t.toml", "--exclusive"]);
    await rig.write("stop", "");
    assert.equal(second.code, 3);
    assert.match(second.stderr, /^Cannot start "nightly": another run of it is active \(pid \d+ on host ".+"\)\n$/);
    assert.equal(await closed, 0);
    const third = await rig.run(["run", "t.toml", "--exclusive"]);
    assert.equal(third.code, 0, "the guard is released when the first run ends");
  });

  test("a workflow is found by name in --workflows-dir", async () => {
    await using rig = await TestRig.create();
    await rig.write("flows/hello.toml", `[tasks.a]\ncmd = "true"\n`);
    const r = await rig.run(["run", "hello", "--workflows-dir", "flows"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ hello completed/);
  });

  test("a closed stdout (wf run ... | head -1) does not stop the run or lose its journal", async () => {
    await using rig = await TestRig.create();
    await rig.write("p.toml", `[tasks.a]\ncmd = "true"\n[tasks.b]\ncmd = "sleep 0.3"\ndepends_on = ["a"]\n[tasks.c]\ncmd = "true"\ndepends_on = ["b"]\n`);
    const child = rig.spawn(["run", "p.toml"]);
    child.stdout!.once("data", () => child.stdout!.destroy());
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    assert.equal(stderr, "");
    assert.equal(code, 0);
    const journal = await rig.journal(await rig.lastRunId());
    assert.equal(journal.at(-1)?.["status"], "success");
  });

  test("on a terminal, a live progress line shows done/total and what is running, and is cleared before each event line", async (t) => {
    if (spawnSync("script", ["--version"]).status !== 0) return t.skip("util-linux script is not installed");
    await using rig = await TestRig.create();
    await rig.write("p.toml", `[tasks.a]\ncmd = "sleep 2.5"\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n`);
    const command = [...cliCommand(), "run", "p.toml"].map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
    const r = await collect(spawn("script", ["-qec", command, "/dev/null"], { cwd: rig.dir, env: rig.env() }));
    assert.equal(r.code, 0);
    const out = r.stdout.replaceAll("\r\n", "\n");
    const drawn = out.match(/\r\x1b\[K\[0\/2\] \d+(\.\d)?s running: a/g) ?? [];
    assert.ok(drawn.length >= 2, `drawn when a started and redrawn while it ran: ${JSON.stringify(out)}`);
    assert.match(out, /\r\x1b\[K✓ a \(succeeded in \d(\.\d)?s\)\n/);
    assert.match(out, /✓ p completed in \d(\.\d)?s\n$/);
  });

  test("a second SIGINT kills at once: tasks are ended and wf exits 130 without waiting for them", async () => {
    await using rig = await TestRig.create();
    // The task ignores SIGTERM, so the first SIGINT alone would wait out the grace period.
    await rig.write("t.toml", `[tasks.stubborn]\ncmd = "trap '' TERM; echo started > started.txt; sleep 30"\n`);
    const child = rig.spawn(["run", "t.toml"]);
    const closed = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    await rig.waitForFile("started.txt");
    const pid = await rig.spawnedPid(await rig.lastRunId(), "stubborn"); // the spawn line is durable
    process.kill(child.pid!, "SIGINT");
    await new Promise((r) => setTimeout(r, 200));
    process.kill(child.pid!, "SIGINT");
    assert.equal(await closed, 130);
    const journal = await rig.journal(await rig.lastRunId());
    assert.equal(journal.some((l) => l.type === "run_status" && l["status"] === "cancelled"), false, "it did not wait to write a final status");
    assert.equal(Number(journal.find((l) => l.type === "task_spawned")!["pid"]), pid);
    await until("the task's process group was killed", () => !isAlive(pid));
  });
});
