/**
 * Crash safety: `kill -9` of wf and its tasks (a power cut) at many points of
 * a run, then `wf resume`, always ends in success; no task whose success was
 * journaled runs twice, and an interrupted task runs at most twice.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { after, describe, test } from "node:test";
import { type JournalLine, random, TestRig } from "./rig.ts";

/** Twelve tasks in three chains that fan in, each leaving one line per execution in side.txt. */
const WORKFLOW = (() => {
  const lines: string[] = [];
  const task = (id: string, deps: string[], register?: string) => {
    lines.push(`[tasks.${id}]`);
    lines.push(`cmd = "echo ${id} >> side.txt; sleep 0.1; echo value-${id}"`);
    if (deps.length > 0) lines.push(`depends_on = [${deps.map((d) => `"${d}"`).join(", ")}]`);
    if (register !== undefined) lines.push(`register = "${register}"`);
  };
  for (const chain of ["a", "b", "c"]) {
    task(`${chain}1`, [], `${chain}_first`);
    task(`${chain}2`, [`${chain}1`]);
    task(`${chain}3`, [`${chain}2`]);
  }
  task("join1", ["a3", "b3", "c3"]);
  task("join2", ["join1"], "joined");
  lines.push(`[tasks.final]`, `cmd = "echo final >> side.txt; echo {{.a_first}} {{.joined}} > final.txt"`, `depends_on = ["join2"]`);
  return `${lines.join("\n")}\n`;
})();

const TASKS = ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3", "join1", "join2", "final"];
const MODES = ["--sequential", "--parallel", "--work-stealing"];

const next = random(20261121);
/**
 * Kill points, measured from the moment the run's start is durable: spread over
 * the run's length in each mode (about 1.5 s sequential, 0.7 s in parallel),
 * so that they fall between, during and after journal writes, not after the end.
 */
const POINTS = Array.from({ length: 21 }, (_, i) => {
  const mode = MODES[i % 3]!;
  return { i, mode, delayMs: Math.floor(next() * (mode === "--sequential" ? 1300 : 600)) };
});

function succeededTasks(journal: JournalLine[]): Set<string> {
  return new Set(journal.filter((l) => l.type === "task_finished" && l["state"] === "succeeded").map((l) => String(l["task"])));
}

/** How many points really cut a run short (the others found it finished or not yet started). */
let interrupted = 0;

describe("kill -9 then resume", { concurrency: 3 }, () => {
  after(() => assert.ok(interrupted >= 15, `only ${interrupted} of ${POINTS.length} kill points interrupted a run`));

  for (const point of POINTS) {
    test(`point ${point.i}: killed ${point.delayMs}ms into a ${point.mode} run`, async () => {
      await using rig = await TestRig.create();
      await rig.write("crash.toml", WORKFLOW);
      const child = rig.spawn(["run", "crash.toml", point.mode, "--max-parallel", "3"]);
      const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
      // Wait until the run has started (its run_started line is on disk), then for the kill point.
      for (let waited = 0; waited < 15_000 && child.exitCode === null; waited += 20) {
        const ids = await rig.runIds();
        const text = ids.length === 0 ? "" : await rig.journalText(ids[0]!).catch(() => "");
        if (text.includes('"type":"run_started"')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, point.delayMs));
      try {
        process.kill(-child.pid!, "SIGKILL"); // wf and every task: a power cut
      } catch {
        // It had already finished.
      }
      await closed;

      const ids = await rig.runIds();
      const side = () => rig.read("side.txt").then((t) => t.split("\n").filter((l) => l !== ""), () => [] as string[]);
      const text = ids.length === 0 ? "" : await rig.journalText(ids[0]!).catch(() => ""); // killed before the journal existed
      if (!text.includes('"type":"run_started"')) {
        assert.deepEqual(await side(), [], "nothing ran before the run was durable");
        return;
      }
      const id = ids[0]!;
      const beforeCrash = succeededTasks(await rig.journal(id));
      const resumed = await rig.run(["resume", id, "--kill-orphans"]);
      const journal = await rig.journal(id);
      if (resumed.code === 3) {
        assert.equal(resumed.stderr, `Cannot resume run "${id}": it already succeeded\n`, "only a finished run may refuse");
      } else {
        assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
        interrupted++;
        const takeover = journal.find((l) => l.type === "lock_taken_over");
        assert.equal(takeover?.["previous_pid"], child.pid, "the dead run's lock was taken over, and journaled");
      }
      assert.equal(journal.at(-1)?.["status"], "success");
      assert.deepEqual([...succeededTasks(journal)].sort(), [...TASKS].sort());

      const counts = new Map<string, number>();
      for (const line of await side()) counts.set(line, (counts.get(line) ?? 0) + 1);
      for (const task of TASKS) {
        const n = counts.get(task) ?? 0;
        if (beforeCrash.has(task)) assert.equal(n, 1, `"${task}" succeeded before the crash and must not run again`);
        else assert.ok(n >= 1 && n <= 2, `"${task}" ran ${n} times`);
      }
      assert.equal(await rig.read("final.txt"), "value-a1 value-join2\n");
      journal.forEach((line, seq) => assert.equal(line.seq, seq));
    });
  }
});
