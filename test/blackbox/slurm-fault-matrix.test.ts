/**
 * The fault matrix on the real Slurm cluster: `kill -9` of wf at each moment
 * of an attempt (before its job is submitted or its id journaled, while the
 * job is queued or runs, after it ended but before the journal has its
 * result), in each mode, for tasks that print and tasks that register, then
 * a plain `wf resume`. There is no launcher to kill here (slurmd is the
 * job's parent). Every command starts exactly once, the scheduler ran
 * exactly the journaled jobs once each, every registered value reaches its
 * dependents, and the journal verifies.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { atMoment, FINAL, kill, KINDS, MODES, MOMENTS, snapshot, startsOf, story, type Strike, TASKS, workflow } from "./fault-points.ts";
import { collect, type JournalLine, type RunResult, TestRig, until } from "./rig.ts";
import { slurmCluster, slurmSuite } from "./slurm.ts";

const slurm = await slurmCluster();

/** Nine cells: each moment in each mode, alternating the kind of task it targets. */
const CELLS = MOMENTS.flatMap((moment, m) => MODES.map((mode, d) => ({ moment, mode, kind: (m + d) % 2 === 0 ? "registers" as const : "prints" as const })));
type Cell = (typeof CELLS)[number];

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Waits for the cell's moment and kills wf there; undefined if the run ended first. */
async function strike(rig: TestRig, cell: Cell, child: ChildProcess): Promise<Strike | undefined> {
  for (const give = Date.now() + 120_000; running(child); await new Promise((r) => setTimeout(r, 3))) {
    if (Date.now() > give) throw new Error(`The moment "${cell.moment}" did not come within 120 s, and the run did not end`);
    const snap = await snapshot(rig);
    if (snap === undefined) continue;
    const hit = await atMoment(snap, cell.moment, KINDS[cell.kind]);
    if (hit !== undefined) {
      kill(child.pid!);
      return hit;
    }
  }
  return undefined;
}

slurmSuite("kill -9 of wf on Slurm", slurm, (cluster) => {
  describe("at each moment of an attempt, then wf resume: every command starts once, one Slurm job per attempt, the run succeeds", { concurrency: 3 }, () => {
    for (const cell of CELLS) {
      test(`kill -9 of wf ${cell.moment} of a task that ${cell.kind}, ${cell.mode}`, { timeout: 300_000 }, async () => {
        await using rig = await TestRig.create();
        await rig.write("m.toml", workflow(0, ['executor = "slurm"']));
        const child = rig.spawn(["run", "m.toml", cell.mode, "--max-parallel", "3"], { env: cluster.env });
        const ran = collect(child, { timeoutMs: 240_000 });
        ran.catch(() => {});
        const hit = await strike(rig, cell, child);
        const run = await ran;
        const id = await rig.lastRunId();
        let resumed: RunResult | undefined;
        try {
          assert.ok(hit !== undefined, `the moment "${cell.moment}" came before the run ended`);
          const killed = await rig.journal(id);
          assert.ok(!killed.some((l) => l.type === "run_status" && l["status"] !== "running"), "wf was killed mid-run");
          resumed = await rig.run(["resume", id], { env: cluster.env, timeoutMs: 240_000 });
          assert.equal(resumed.code, 0, "the resume succeeds");
          const journal = await rig.journal(id);
          assert.equal(journal.findLast((l: JournalLine) => l.type === "run_status")?.["status"], "success");
          const starts = await startsOf(rig);
          for (const task of TASKS) assert.equal(starts.get(task), 1, `"${task}" started ${starts.get(task) ?? 0} times`);
          assert.equal(await rig.read("final.txt").catch(() => "(missing)"), FINAL);
          const verified = await rig.run(["verify", id]);
          assert.equal(verified.code, 0, `wf verify: ${verified.stdout}${verified.stderr}`);
          // The scheduler's own record: one job per task, each COMPLETED once, each named by the journal
          // (on task_spawned, or on task_reattached when wf died before it could journal the id).
          const journaledIds = new Set(journal.filter((l) => (l.type === "task_spawned" || l.type === "task_reattached") && l["job_id"] !== undefined).map((l) => String(l["job_id"])));
          const recordsOfRun = async () => (await readFile(cluster.jobcomp, "utf8")).split("\n").filter((l) => l.includes(` Name=wf-${id}-`));
          await until("a jobcomp record of every job of the run", async () => (await recordsOfRun()).length >= TASKS.length, 60_000);
          const records = await recordsOfRun();
          assert.equal(records.length, TASKS.length, records.join("\n"));
          for (const line of records) {
            assert.match(line, /JobState=COMPLETED/, line);
            assert.ok(journaledIds.has(/^JobId=(\d+) /.exec(line)?.[1] ?? ""), `the journal names job ${line}`);
          }
        } catch (e) {
          const where = hit === undefined ? "the moment never came" : `killed wf at ${hit.task}.${hit.attempt}`;
          throw new Error(`${(e as Error).message}\n${where}\n${await story(rig, [["run", run], ["resume", resumed]])}`, { cause: e });
        }
      });
    }
  });
});
