/**
 * The fault matrix (issue 15): `kill -9` of wf alone, of one launcher, or of
 * wf and every launcher, at three points of an attempt (before its job
 * starts, while it runs, after it ended but before the journal has its
 * result), in each mode, with and without retries. If wf died, a plain
 * `wf resume` finishes the run; if only a launcher died, wf finishes it
 * itself. Either way every command starts exactly once, every registered
 * value reaches its dependents, and the journal verifies.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import { collect, type JournalLine, processesWithEnv, random, type RunResult, TestRig } from "./rig.ts";

/**
 * Five tasks, about 0.2 s each: root and b register values (b's holds
 * root's), a and c print to stdout and stderr while they run, and final
 * writes both values to final.txt. Every command first leaves its name in
 * starts.txt.
 */
function workflow(retries: number): string {
  const lines: string[] = ['name = "matrix"'];
  const task = (id: string, deps: string[], body: string, register?: string) => {
    lines.push(`[tasks.${id}]`, `cmd = "echo ${id} >> starts.txt; ${body}"`);
    if (deps.length > 0) lines.push(`depends_on = [${deps.map((d) => `"${d}"`).join(", ")}]`);
    if (register !== undefined) lines.push(`register = "${register}"`);
    if (retries > 0) lines.push(`retries = ${retries}`);
  };
  const prints = (id: string) => `for i in 1 2 3 4 5; do echo ${id} line $i; echo ${id} err $i >&2; sleep 0.04; done; echo ${LAST_LINE[id]}`;
  const registers = (id: string) => `for i in 1 2 3; do echo ${id} step $i; sleep 0.065; done; echo ${LAST_LINE[id]}`;
  task("root", [], registers("root"), "root_value");
  task("a", ["root"], prints("a"));
  task("b", ["root"], registers("b"), "b_value");
  task("c", ["a", "b"], prints("c"));
  task("final", ["c"], "echo {{.root_value}} {{.b_value}} > final.txt");
  return `${lines.join("\n")}\n`;
}

/** Each task's last line of stdout: its output is complete once its log ends with it. */
const LAST_LINE: Record<string, string> = { root: "value-root", a: "a done", b: "b-saw-{{.root_value}}", c: "c done" };
const LAST_IN_LOG: Record<string, string> = { ...LAST_LINE, b: "b-saw-value-root" };
const TASKS = ["root", "a", "b", "c", "final"];
const FINAL = "value-root b-saw-value-root\n";
/** The tasks a point may target, by kind. */
const KINDS = { prints: ["a", "c"], registers: ["root", "b"] } as const;

const VICTIMS = ["wf alone", "one launcher", "wf and every launcher"] as const;
const MOMENTS = ["before the spawn", "while the job runs", "after it ends, before the journal has it"] as const;
const MODES = ["--sequential", "--parallel", "--work-stealing"] as const;
type Victim = (typeof VICTIMS)[number];
type Moment = (typeof MOMENTS)[number];

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

/** A journal's lines; a torn last line (wf killed while writing it) is left out. */
function parseLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    try {
      if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Torn.
    }
  }
  return lines;
}

/** What the run's folder says right now. */
interface Snapshot {
  journal: Record<string, unknown>[];
  spawned: Record<string, unknown>[];
  runDir: string;
}

async function snapshot(rig: TestRig): Promise<Snapshot | undefined> {
  const ids = await readdir(join(rig.stateDir, "runs")).catch(() => []);
  if (ids.length === 0) return undefined;
  const runDir = join(rig.stateDir, "runs", ids[0]!);
  const journal = parseLines(await readFile(join(runDir, "journal.jsonl"), "utf8").catch(() => ""));
  const spawned = parseLines(await readFile(join(runDir, "spawned.jsonl"), "utf8").catch(() => ""));
  return { journal, spawned, runDir };
}

const has = (lines: Record<string, unknown>[], type: string, task: unknown, attempt: unknown) =>
  lines.some((l) => l["type"] === type && l["task"] === task && l["attempt"] === attempt);

/** The pid that started the job (field 4 of /proc/<pid>/stat), if it still runs. */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
}

/** Where a point strikes: the attempt it targets and, for "one launcher", which launcher. */
interface Strike {
  task: string;
  attempt: number;
  /** The attempt's job, once it has one. */
  jobPid?: number;
  /** The launcher that started it, where the spawn log or /proc tells. */
  launcher?: number;
}

/** The attempt of one of `tasks` that is at `moment` now, if any. */
async function atMoment(s: Snapshot, moment: Moment, tasks: readonly string[]): Promise<Strike | undefined> {
  for (const started of s.journal.filter((l) => l["type"] === "task_started" && tasks.includes(String(l["task"])))) {
    const task = String(started["task"]);
    const attempt = Number(started["attempt"]);
    if (has(s.journal, "task_finished", task, attempt)) continue;
    const statusName = `${task}.${attempt}.status`;
    const record = s.spawned.find((l) => l["status"] === statusName);
    const by = typeof record?.["by"] === "number" ? record["by"] : undefined;
    const spawnedLine = s.journal.find((l) => l["type"] === "task_spawned" && l["task"] === task && l["attempt"] === attempt);
    const jobPid = typeof spawnedLine?.["pid"] === "number" ? spawnedLine["pid"] : typeof record?.["pid"] === "number" ? record["pid"] : undefined;
    const log = await readFile(join(s.runDir, "logs", `${task}.${attempt}.stdout.log`), "utf8").catch(() => "");
    const complete = log.endsWith(`${LAST_IN_LOG[task]}\n`);
    switch (moment) {
      case "before the spawn":
        if (spawnedLine === undefined && record === undefined) return { task, attempt };
        break;
      case "while the job runs":
        if (spawnedLine !== undefined && !complete) return { task, attempt, jobPid: jobPid!, ...(by === undefined ? {} : { launcher: by }) };
        break;
      case "after it ends, before the journal has it":
        if (complete || s.spawned.some((l) => l["exited"] === statusName)) return { task, attempt, ...(jobPid === undefined ? {} : { jobPid }), ...(by === undefined ? {} : { launcher: by }) };
        break;
    }
  }
  return undefined;
}

/** Every launcher of the rig's runs: those in the spawn log and any still starting (by the state directory in its environment). */
async function allLaunchers(rig: TestRig, s: Snapshot): Promise<number[]> {
  const pids = new Set(s.spawned.filter((l) => typeof l["launcher"] === "number").map((l) => l["launcher"] as number));
  for (const pid of await processesWithEnv(`WF_STATE_DIR=${rig.stateDir}`)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes("__wf-launcher")) pids.add(pid);
  }
  return [...pids];
}

function kill9(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Gone already.
  }
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
    kill9(pid);
    killed.push(`launcher ${pid}${pid === parent || pid === hit.launcher ? ` (of the job of ${hit.task})` : " (the first)"}`);
  } else {
    kill9(child.pid!); // wf first, so that it starts no launcher after
    killed.push(`wf ${child.pid}`);
    if (cell.victim === "wf and every launcher") {
      for (const pid of await allLaunchers(rig, snap)) {
        kill9(pid);
        killed.push(`launcher ${pid}`);
      }
    }
  }
  const after = await snapshot(rig);
  return { strike: hit, killed, ended: (after?.journal ?? []).some((l) => l["type"] === "run_status" && l["status"] !== "running") };
}

async function startsOf(rig: TestRig): Promise<Map<string, number>> {
  const text = await rig.read("starts.txt").catch(() => "");
  const counts = new Map<string, number>();
  for (const line of text.split("\n").filter((l) => l !== "")) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** What a failing cell's reader needs: the journal, the spawn log, and what wf printed. */
async function story(rig: TestRig, outputs: [string, RunResult | undefined][]): Promise<string> {
  const snap = await snapshot(rig);
  const keys = ["task", "attempt", "state", "status", "pid", "adopted", "will_retry", "outcome_unknown", "error", "reason", "name", "value"];
  const journal = (snap?.journal ?? []).map((l) => `  ${l["seq"]} ${l["type"]} ${keys.filter((k) => l[k] !== undefined).map((k) => `${k}=${JSON.stringify(l[k])}`).join(" ")}`);
  const spawned = (snap?.spawned ?? []).map((l) => `  ${JSON.stringify(l)}`);
  const printed = outputs.map(([what, r]) => (r === undefined ? "" : `--- ${what}: exit ${r.code ?? r.signal}\nstdout:\n${r.stdout}stderr:\n${r.stderr}`));
  const starts = await rig.read("starts.txt").catch(() => "(none)\n");
  return [`journal:`, ...journal, `spawned.jsonl:`, ...spawned, `starts.txt:\n${starts}`, ...printed].join("\n");
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
