/**
 * The fault matrix of local jobs (Slurm's is slurm-fault-matrix.test.ts): `kill -9` of wf alone, of one launcher, or of
 * wf and every launcher, at three points of an attempt (before its job
 * starts, while it runs, after it ended but before the journal has its
 * result), in each mode, with and without retries. If wf died, a plain
 * `wf resume` finishes the run; if only a launcher died, wf finishes it
 * itself. Either way every command starts exactly once, every registered
 * value reaches its dependents, and the journal verifies.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { after, describe, test } from "node:test";
import {
  atMoment, FINAL, kill, KINDS, MODES, MOMENTS, parentOf, type Snapshot, snapshot, startsOf, story, type Strike, TASKS, workflow,
} from "./fault-points.ts";
import { collect, type JournalLine, processesWithEnv, random, type RunResult, TestRig } from "./rig.ts";

const VICTIMS = ["wf alone", "one launcher", "wf and every launcher"] as const;
type Victim = (typeof VICTIMS)[number];

const next = random(20261205);
/**
 * 54 cells. The two cells that differ only in retries target tasks of
 * different kinds. A point watches for its moment only once `armAfter` tasks
 * have finished and `armMs` more have passed, so that it lands on early and
 * late tasks whatever the machine's load (a run takes 1 to 3 s).
 */
const CELLS = VICTIMS.flatMap((victim, v) =>
  MOMENTS.flatMap((moment, m) =>
    MODES.flatMap((mode, d) =>
      [0, 1].map((retries) => {
        const kind: keyof typeof KINDS = (v + m + d + retries) % 2 === 0 ? "prints" : "registers";
        // Root is the only register task before the first result, b the only one after it.
        return { victim, moment, mode, retries, kind, armAfter: Math.floor(next() * (kind === "prints" ? 3 : 2)), armMs: Math.floor(next() * 150) };
      }),
    ),
  ),
);
type Cell = (typeof CELLS)[number];

/** Every launcher of the rig's runs: those in the spawn log and any still starting (by the state directory in its environment). */
async function allLaunchers(rig: TestRig, s: Snapshot): Promise<number[]> {
  const pids = new Set(s.spawned.filter((l) => typeof l["launcher"] === "number").map((l) => l["launcher"] as number));
  for (const pid of await processesWithEnv(`WF_STATE_DIR=${rig.stateDir}`)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes("__wf-launcher")) pids.add(pid);
  }
  return [...pids];
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * Starts the run and waits for the cell's moment (after its delay), then
 * kills the cell's victims; what was killed and whether the run had ended
 * by then. A point whose moment never came (the run ended first) kills nothing.
 */
async function strike(rig: TestRig, cell: Cell, child: ChildProcess): Promise<{ strike?: Strike; killed: string[]; ended: boolean }> {
  let armedAt = 0;
  let found: { strike: Strike; snap: Snapshot } | undefined;
  // Polled every few ms, not every 50: the moments after a job's start and end last about 10 ms.
  for (const give = Date.now() + 30_000; running(child); await new Promise((r) => setTimeout(r, 3))) {
    if (Date.now() > give) throw new Error(`The moment "${cell.moment}" did not come within 30 s, and the run did not end`);
    const snap = await snapshot(rig);
    if (snap === undefined) continue;
    if (armedAt === 0) {
      if (snap.journal.filter((l) => l["type"] === "task_finished").length < cell.armAfter) continue;
      armedAt = Date.now();
    }
    if (Date.now() - armedAt < cell.armMs) continue;
    // One launcher: one must exist to be killed.
    if (cell.victim === "one launcher" && !snap.spawned.some((l) => typeof l["launcher"] === "number")) continue;
    const hit = await atMoment(snap, cell.moment, KINDS[cell.kind]);
    if (hit !== undefined) {
      found = { strike: hit, snap };
      break;
    }
  }
  if (found === undefined || !running(child)) return { killed: [], ended: true };
  const { strike: hit, snap } = found;
  const killed: string[] = [];
  if (cell.victim === "one launcher") {
    const launchers = snap.spawned.filter((l) => typeof l["launcher"] === "number").map((l) => l["launcher"] as number);
    const parent = hit.jobPid === undefined ? undefined : await parentOf(hit.jobPid);
    const pid = [parent, hit.launcher].find((p) => p !== undefined && launchers.includes(p)) ?? launchers[0]!;
    kill(pid);
    killed.push(`launcher ${pid}${pid === parent || pid === hit.launcher ? ` (of the job of ${hit.task})` : " (the first)"}`);
  } else {
    kill(child.pid!); // wf first, so that it starts no launcher after
    killed.push(`wf ${child.pid}`);
    if (cell.victim === "wf and every launcher") {
      for (const pid of await allLaunchers(rig, snap)) {
        kill(pid);
        killed.push(`launcher ${pid}`);
      }
    }
  }
  const after = await snapshot(rig);
  return { strike: hit, killed, ended: (after?.journal ?? []).some((l) => l["type"] === "run_status" && l["status"] !== "running") };
}

let midRun = 0;

describe("kill -9 of wf, a launcher, or both, at each moment of an attempt: every command starts once and the run succeeds", { concurrency: 3 }, () => {
  after(() => assert.ok(midRun >= (CELLS.length * 2) / 3, `only ${midRun} of ${CELLS.length} kill points landed mid-run`));

  for (const cell of CELLS) {
    const name = `kill -9 of ${cell.victim} ${cell.moment} of a task that ${cell.kind}, ${cell.mode}${cell.retries > 0 ? ", retries = 1" : ""} (armed ${cell.armMs}ms after ${cell.armAfter} results)`;
    test(name, async () => {
      await using rig = await TestRig.create();
      await rig.write("m.toml", workflow(cell.retries));
      const child = rig.spawn(["run", "m.toml", cell.mode, "--max-parallel", "3"]);
      const ran = collect(child);
      ran.catch(() => {}); // awaited below, once the point has struck
      const { strike: hit, killed, ended } = await strike(rig, cell, child);
      const run = await ran;
      const id = await rig.lastRunId();
      let resumed: RunResult | undefined;
      const checks = async () => {
        if (cell.victim === "one launcher" || killed.length === 0) {
          assert.equal(run.code, 0, "wf finishes the run itself");
        } else {
          resumed = await rig.run(["resume", id]);
          if (ended) assert.equal(resumed.stderr, `Cannot resume run "${id}": it already succeeded\n`);
          else assert.equal(resumed.code, 0, "the resume succeeds");
        }
        const journal = await rig.journal(id);
        assert.equal(journal.findLast((l: JournalLine) => l.type === "run_status")?.["status"], "success");
        const starts = await startsOf(rig);
        for (const task of TASKS) assert.equal(starts.get(task), 1, `"${task}" started ${starts.get(task) ?? 0} times`);
        assert.equal(await rig.read("final.txt").catch(() => "(missing)"), FINAL);
        journal.forEach((line, seq) => assert.equal(line.seq, seq, "seq numbers are contiguous"));
        const verified = await rig.run(["verify", id]);
        assert.equal(verified.code, 0, `wf verify: ${verified.stdout}${verified.stderr}`);
      };
      try {
        await checks();
      } catch (e) {
        const where = killed.length === 0 ? "the moment never came (nothing killed)" : `killed ${killed.join(", ")} at ${hit!.task}.${hit!.attempt}${ended ? " (the run had ended)" : ""}`;
        throw new Error(`${(e as Error).message}\n${where}\n${await story(rig, [["run", run], ["resume", resumed]])}`, { cause: e });
      }
      if (killed.length > 0 && !ended) midRun++;
    });
  }
});
