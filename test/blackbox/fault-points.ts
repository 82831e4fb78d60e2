/**
 * What the fault matrices (fault-matrix.test.ts for local jobs,
 * slurm-fault-matrix.test.ts for Slurm's) share: the workflow whose
 * commands each leave their start in starts.txt, the three moments of an
 * attempt and how a snapshot of the run's folder tells which one an attempt
 * is at, and what a failing point prints.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { RunResult, TestRig } from "./rig.ts";

/**
 * Five tasks, about 0.2 s each: root and b register values (b's holds
 * root's), a and c print to stdout and stderr while they run, and final
 * writes both values to final.txt. Every command first leaves its name in
 * starts.txt.
 */
export function workflow(retries: number, header: readonly string[] = []): string {
  const lines: string[] = ['name = "matrix"', ...header];
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
export const LAST_LINE: Record<string, string> = { root: "value-root", a: "a done", b: "b-saw-{{.root_value}}", c: "c done" };
export const LAST_IN_LOG: Record<string, string> = { ...LAST_LINE, b: "b-saw-value-root" };
export const TASKS = ["root", "a", "b", "c", "final"];
export const FINAL = "value-root b-saw-value-root\n";
/** The tasks a point may target, by kind. */
export const KINDS = { prints: ["a", "c"], registers: ["root", "b"] } as const;

export const MOMENTS = ["before the spawn", "while the job runs", "after it ends, before the journal has it"] as const;
export const MODES = ["--sequential", "--parallel", "--work-stealing"] as const;
export type Moment = (typeof MOMENTS)[number];

/** A journal's lines; a torn last line (wf killed while writing it) is left out. */
export function parseLines(text: string): Record<string, unknown>[] {
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
export interface Snapshot {
  journal: Record<string, unknown>[];
  spawned: Record<string, unknown>[];
  runDir: string;
}

export async function snapshot(rig: TestRig): Promise<Snapshot | undefined> {
  const ids = await readdir(join(rig.stateDir, "runs")).catch(() => []);
  if (ids.length === 0) return undefined;
  const runDir = join(rig.stateDir, "runs", ids[0]!);
  const journal = parseLines(await readFile(join(runDir, "journal.jsonl"), "utf8").catch(() => ""));
  const spawned = parseLines(await readFile(join(runDir, "spawned.jsonl"), "utf8").catch(() => ""));
  return { journal, spawned, runDir };
}

export const has = (lines: Record<string, unknown>[], type: string, task: unknown, attempt: unknown) =>
  lines.some((l) => l["type"] === type && l["task"] === task && l["attempt"] === attempt);

/** The pid that started the job (field 4 of /proc/<pid>/stat), if it still runs. */
export async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
}

/** The launcher of a job that runs now: its parent, which must be there (never init). */
export async function launcherOf(job: number): Promise<number> {
  const parent = await parentOf(job);
  if (parent === undefined) throw new Error(`job ${job} has no live parent`);
  return parent;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to `pid` (a negative pid: its group), if it is still there. */
export function kill(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

/** Where a point strikes: the attempt it targets and, for "one launcher", which launcher. */
export interface Strike {
  task: string;
  attempt: number;
  /** The attempt's job, once it has one. */
  jobPid?: number;
  /** The launcher that started it, where the spawn log or /proc tells. */
  launcher?: number;
}

/** The attempt of one of `tasks` that is at `moment` now, if any. */
export async function atMoment(s: Snapshot, moment: Moment, tasks: readonly string[]): Promise<Strike | undefined> {
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

export async function startsOf(rig: TestRig): Promise<Map<string, number>> {
  const text = await rig.read("starts.txt").catch(() => "");
  const counts = new Map<string, number>();
  for (const line of text.split("\n").filter((l) => l !== "")) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** What a failing cell's reader needs: the journal, the spawn log, and what wf printed. */
export async function story(rig: TestRig, outputs: [string, RunResult | undefined][]): Promise<string> {
  const snap = await snapshot(rig);
  const keys = ["task", "attempt", "state", "status", "pid", "job_id", "adopted", "will_retry", "outcome_unknown", "error", "reason", "name", "value"];
  const journal = (snap?.journal ?? []).map((l) => `  ${l["seq"]} ${l["type"]} ${keys.filter((k) => l[k] !== undefined).map((k) => `${k}=${JSON.stringify(l[k])}`).join(" ")}`);
  const spawned = (snap?.spawned ?? []).map((l) => `  ${JSON.stringify(l)}`);
  const printed = outputs.map(([what, r]) => (r === undefined ? "" : `--- ${what}: exit ${r.code ?? r.signal}\nstdout:\n${r.stdout}stderr:\n${r.stderr}`));
  const starts = await rig.read("starts.txt").catch(() => "(none)\n");
  return [`journal:`, ...journal, `spawned.jsonl:`, ...spawned, `starts.txt:\n${starts}`, ...printed].join("\n");
}

