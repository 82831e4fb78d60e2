/**
 * Work outlives wf: attempts are detached jobs. `kill -9` of wf alone (the
 * OOM killer, a crashed agent) leaves its jobs running; a plain `wf resume`
 * adopts what finished meanwhile, waits for what still runs, and runs only
 * what never started, so every task's command starts exactly once.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import { collect, type JournalLine, random, TestRig, until } from "./rig.ts";

/** Ten tasks that print while they run (a fan-out, two chains, a join), each leaving one line per start in starts.txt. */
const WORKFLOW = (() => {
  const lines: string[] = ['name = "detached"'];
  const task = (id: string, deps: string[], register?: string) => {
    lines.push(`[tasks.${id}]`);
    lines.push(`cmd = "echo ${id} >> starts.txt; for i in 1 2 3 4 5 6; do echo ${id} line $i; sleep 0.04; done; echo value-${id}"`);
    if (deps.length > 0) lines.push(`depends_on = [${deps.map((d) => `"${d}"`).join(", ")}]`);
    if (register !== undefined) lines.push(`register = "${register}"`);
  };
  task("root", [], "root_value");
  for (const chain of ["a", "b", "c"]) {
    task(`${chain}1`, ["root"]);
    task(`${chain}2`, [`${chain}1`]);
  }
  task("join", ["a2", "b2", "c2"], "joined");
  lines.push(`[tasks.final]`, `cmd = "echo final >> starts.txt; echo {{.root_value}} {{.joined}} > final.txt"`, `depends_on = ["join"]`);
  return `${lines.join("\n")}\n`;
})();
const TASKS = ["root", "a1", "a2", "b1", "b2", "c1", "c2", "join", "final"];
const MODES = ["--sequential", "--parallel", "--work-stealing"];

const next = random(20261122);
/** 24 kill points, measured from the moment the run's start is durable, spread over each mode's length (about 2.3 s sequential, 1 s otherwise). */
const POINTS = Array.from({ length: 24 }, (_, i) => {
  const mode = MODES[i % 3]!;
  return { i, mode, delayMs: Math.floor(next() * (mode === "--sequential" ? 2000 : 900)) };
});

async function startsOf(rig: TestRig): Promise<Map<string, number>> {
  const text = await rig.read("starts.txt").catch(() => "");
  const counts = new Map<string, number>();
  for (const line of text.split("\n").filter((l) => l !== "")) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** Starts a run, waits for its run_started line, then for `delayMs`, and kills wf alone with SIGKILL; its run id, and whether it had ended. */
async function killMidRun(rig: TestRig, args: string[], ready: () => Promise<boolean>): Promise<{ id: string; ended: boolean }> {
  const child = rig.spawn(args);
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  await until("the run to start", async () => child.exitCode !== null || (await ready()));
  try {
    process.kill(child.pid!, "SIGKILL"); // wf alone: its jobs live on
  } catch {
    // It had already finished.
  }
  await closed;
  const id = await rig.lastRunId();
  const journal = await rig.journal(id);
  return { id, ended: journal.some((l) => l.type === "run_status" && l["status"] !== "running") };
}

async function journalHas(rig: TestRig, type: string): Promise<boolean> {
  const ids = await rig.runIds();
  if (ids.length === 0) return false;
  return (await rig.journalText(ids[0]!).catch(() => "")).includes(`"type":"${type}"`);
}

let midRun = 0;

describe("kill -9 of wf alone, then a plain resume: every task's command starts exactly once", { concurrency: 3 }, () => {
  after(() => assert.ok(midRun >= (POINTS.length * 2) / 3, `only ${midRun} of ${POINTS.length} kill points landed mid-run`));

  for (const point of POINTS) {
    test(`point ${point.i}: killed ${point.delayMs}ms into a ${point.mode} run`, async () => {
      await using rig = await TestRig.create();
      await rig.write("d.toml", WORKFLOW);
      const args = ["run", "d.toml", point.mode, "--max-parallel", "3"];
      let startedAt = 0;
      const { id, ended } = await killMidRun(rig, args, async () => {
        if (startedAt === 0 && (await journalHas(rig, "run_started"))) startedAt = Date.now();
        return startedAt !== 0 && Date.now() - startedAt >= point.delayMs;
      });
      const resumed = await rig.run(["resume", id]);
      if (ended) {
        assert.equal(resumed.stderr, `Cannot resume run "${id}": it already succeeded\n`);
      } else {
        assert.equal(resumed.stderr, "");
        assert.equal(resumed.code, 0, resumed.stdout);
        midRun++;
      }
      const journal = await rig.journal(id);
      assert.equal(journal.at(-1)?.["status"], "success");
      const starts = await startsOf(rig);
      for (const task of TASKS) {
        const lines = journal.filter((l) => l["task"] === task).map((l) => `${l.type} ${l["attempt"] ?? ""} ${l["error"] ?? l["reason"] ?? ""}`);
        assert.equal(starts.get(task), 1, `"${task}" started ${starts.get(task) ?? 0} times:\n${lines.join("\n")}\n${resumed.stdout}`);
      }
      assert.equal(await rig.read("final.txt"), "value-root value-join\n");
      journal.forEach((line, seq) => assert.equal(line.seq, seq));
      const verified = await rig.run(["verify", id]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    });
  }
});

/** The task_finished lines of a journal, as [task, state, adopted]. */
function results(journal: JournalLine[]): unknown[][] {
  return journal.filter((l) => l.type === "task_finished").map((l) => [l["task"], l["state"], l["adopted"] ?? false]);
}

describe("resume adopts and re-attaches", () => {
  const TWO = `name = "two"
[tasks.slow]
cmd = "echo slow >> starts.txt; sleep 1.5; echo from-slow"
register = "got"

[tasks.after]
cmd = "echo after >> starts.txt; echo {{.got}} > after.txt"
depends_on = ["slow"]
`;

  test("a task that finished while no wf was alive is adopted, not run again, and its registered value reaches its dependents", async () => {
    await using rig = await TestRig.create();
    await rig.write("two.toml", TWO);
    const { id } = await killMidRun(rig, ["run", "two.toml"], () => journalHas(rig, "task_spawned"));
    // The job goes on without wf, and writes its own result.
    const status = join(rig.stateDir, "runs", id, "logs", "slow.1.status");
    await until("slow's status file to say it exited", async () => (await readFile(status, "utf8").catch(() => "")).includes('"state":"exited"'));
    const plan = await rig.run(["resume", id, "--dry-run"]);
    assert.equal(
      plan.stdout,
      `Run "${id}" of "two" (interrupted): 1 of 2 tasks would run, 1 adopted\n` +
        `  adopt slow (its job ended while no wf was running: exit status 0)\n` +
        `  run  after (never started)\n`,
    );
    const resumed = await rig.run(["resume", id]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^✓ slow \(succeeded in \d+(\.\d+)?s, adopted\)$/m);
    const journal = await rig.journal(id);
    assert.deepEqual(results(journal), [["slow", "succeeded", true], ["after", "succeeded", false]]);
    const registered = journal.find((l) => l.type === "var_registered");
    assert.deepEqual([registered?.["name"], registered?.["value"]], ["got", "from-slow"]);
    assert.ok(journal.indexOf(registered!) < journal.findIndex((l) => l.type === "task_finished"), "the value is durable before the result");
    assert.equal(await rig.read("after.txt"), "from-slow\n");
    assert.deepEqual(Object.fromEntries(await startsOf(rig)), { slow: 1, after: 1 });
  });

  test("a task still running at resume time is waited for, not started twice", async () => {
    await using rig = await TestRig.create();
    // slow runs until the test writes "go", once the resume waits for it: however loaded the machine.
    await rig.write("two.toml", TWO.replace("sleep 1.5", "while [ ! -f go ]; do sleep 0.05; done"));
    const { id } = await killMidRun(rig, ["run", "two.toml"], () => journalHas(rig, "task_spawned"));
    const pid = await rig.spawnedPid(id, "slow");
    // Active means alive: its wf is dead, its job is not.
    const listed = JSON.parse((await rig.run(["runs", "--json"])).stdout) as Record<string, unknown>[];
    assert.deepEqual([listed[0]?.["status"], listed[0]?.["live"]], ["running", true]);
    const busy = await rig.run(["run", "two.toml", "--exclusive"]);
    assert.equal(busy.code, 3);
    assert.match(busy.stderr, new RegExp(`^Cannot start "two": run "${id}" of it left task "slow" running `));
    const resuming = collect(rig.spawn(["resume", id]));
    await until("the resume waits for slow", async () => (await rig.journal(id).catch(() => [])).some((l) => l.type === "task_reattached"));
    await rig.write("go", "");
    const resumed = await resuming;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^… slow \\(still running from the interrupted execution: waiting for pid ${pid}\\)$`, "m"));
    const journal = await rig.journal(id);
    const reattached = journal.find((l) => l.type === "task_reattached");
    assert.deepEqual([reattached?.["task"], reattached?.["attempt"], reattached?.["pid"]], ["slow", 1, pid]);
    assert.deepEqual(results(journal), [["slow", "succeeded", true], ["after", "succeeded", false]]);
    assert.equal(await rig.read("after.txt"), "from-slow\n");
    assert.deepEqual(Object.fromEntries(await startsOf(rig)), { slow: 1, after: 1 });
    assert.equal((await rig.run(["verify", id])).code, 0);
  });

  test("a task that prints continuously survives kill -9 of wf: no SIGPIPE, its whole output in its log", async () => {
    await using rig = await TestRig.create();
    await rig.write("loud.toml", `[tasks.loud]\ncmd = "i=0; while [ $i -lt 300 ]; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.005; done"\n`);
    const { id } = await killMidRun(rig, ["run", "loud.toml", "--print-output"], () => journalHas(rig, "task_spawned"));
    const status = join(rig.stateDir, "runs", id, "logs", "loud.1.status");
    await until("loud's status file to say it exited", async () => (await readFile(status, "utf8").catch(() => "")).includes('"state":"exited"'));
    const ended = JSON.parse(await readFile(status, "utf8")) as Record<string, unknown>;
    assert.deepEqual([ended["exit_code"], ended["signal"]], [0, null]);
    const log = await readFile(join(rig.stateDir, "runs", id, "logs", "loud.1.stdout.log"), "utf8");
    assert.equal(log, Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join(""));
    const resumed = await rig.run(["resume", id]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(results(await rig.journal(id)), [["loud", "succeeded", true]]);
  });
});
