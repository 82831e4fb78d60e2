/**
 * `kill -9` of `wf` in the middle of a run (journal-format.md): whatever instant
 * the process dies at, the journal is clean or has a torn tail (never
 * corrupt), and everything `wf` reported had been made durable first.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { decodeLine } from "../../src/journal/line.ts";
import { classifyJournal } from "../../src/journal/reader.ts";
import type { JournalRecord } from "../../src/journal/events.ts";
import { collect, TestRig } from "./rig.ts";

const TASKS = 30;

/**
 * 30 short tasks in four chains with a few cross edges; every third task
 * registers a variable, which its dependent uses. Each task's shell appends
 * its pid (its process group: wf starts tasks detached) to pids.txt, so the
 * orphans of a killed wf can be ended. /bin/sh may be dash: no $RANDOM.
 */
function crashWorkflow(): string {
  let text = `name = "crash"\n`;
  for (let i = 0; i < TASKS; i++) {
    const deps: string[] = [];
    if (i >= 4) deps.push(`t${i - 4}`);
    if (i >= 7 && i % 7 === 0) deps.push(`t${i - 5}`);
    const uses = i >= 4 && (i - 4) % 3 === 0 ? ` {{.r${i - 4}}}` : "";
    const sleep = (0.05 * (1 + (i % 4))).toFixed(2);
    text += `\n[tasks.t${i}]\ncmd = "echo $$ >> pids.txt; sleep ${sleep}; echo t${i}${uses}"\n`;
    if (deps.length > 0) text += `depends_on = [${deps.map((d) => `"${d}"`).join(", ")}]\n`;
    if (i % 3 === 0) text += `register = "r${i}"\n`;
  }
  return text;
}

/** When to kill, counted from the moment the run's journal exists. */
const KILL_AFTER_MS = [0, 200, 500, 1000];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the first run's journal.jsonl to appear; returns its path. */
async function waitForJournal(rig: TestRig, deadlineMs: number): Promise<string> {
  const runs = join(rig.stateDir, "runs");
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const ids = existsSync(runs) ? await readdir(runs) : [];
    for (const id of ids) {
      const path = join(runs, id, "journal.jsonl");
      if (existsSync(path)) return path;
    }
    await sleep(5);
  }
  throw new Error(`No journal in "${runs}" after ${deadlineMs} ms`);
}

/** Ends the task process groups a killed wf left behind. */
async function killOrphans(rig: TestRig): Promise<void> {
  const text = await rig.read("pids.txt").catch(() => "");
  for (const pid of text.split("\n").filter((l) => /^\d+$/.test(l))) {
    try {
      process.kill(-Number(pid), "SIGKILL");
    } catch {
      // Already ended.
    }
  }
}

describe("kill -9 of wf mid-run", () => {
  const outcomes: { finished: boolean; succeeded: number }[] = [];

  for (const delay of KILL_AFTER_MS) {
    test(`killed ${delay} ms after the journal appears: the journal is clean or torn, and holds every reported result`, async () => {
      await using rig = await TestRig.create();
      await rig.write("crash.toml", crashWorkflow());
      const child = rig.spawn(["run", "crash.toml", "--work-stealing", "--max-parallel", "4"]);
      const done = collect(child, { timeoutMs: 30_000 });
      try {
        const journalPath = await waitForJournal(rig, 15_000);
        await sleep(delay);
        process.kill(child.pid!, "SIGKILL"); // wf alone, not its group: tasks are orphaned
        const result = await done;
        assert.ok(result.code !== null || result.signal === "SIGKILL", "wf ended");

        const bytes = await readFile(journalPath);
        const kind = classifyJournal(bytes);
        assert.ok(kind.kind === "clean" || kind.kind === "torn", `journal is ${kind.kind}: ${JSON.stringify(kind)}`);

        // Every complete (newline-terminated) line decodes: JSON, version, CRC, schema.
        const text = bytes.toString("utf8");
        const complete = text.split("\n").slice(0, -1);
        const records: JournalRecord[] = complete.map((line, i) => {
          const decoded = decodeLine(line);
          assert.ok(decoded.ok, `line ${i + 1} (${line}): ${decoded.ok ? "" : decoded.error}`);
          return decoded.value;
        });
        assert.deepEqual(records.map((r) => r.seq), records.map((_, i) => i), "seq is contiguous from 0");
        assert.equal(records[0]?.type, "header");
        assert.equal(kind.records.length, records.length, "the reader keeps every complete line");

        // Reported means durable: each "✓ x (succeeded ...)" line has its journal line.
        const succeeded = new Map<string, number>();
        for (const r of records) if (r.type === "task_finished" && r.state === "succeeded") succeeded.set(r.task, r.seq);
        const reported = result.stdout
          .split("\n")
          .map((l) => /^✓ (\S+) \(succeeded in /.exec(l)?.[1])
          .filter((t) => t !== undefined);
        for (const task of reported) {
          assert.ok(succeeded.has(task), `"${task}" was reported as succeeded but its task_finished is not in the journal`);
        }

        // A registered variable is journaled before its task's result; a registering task never succeeds without it.
        const registered = new Map<string, number>();
        for (const r of records) if (r.type === "var_registered") registered.set(r.task, r.seq);
        for (const [task, seq] of registered) {
          const finished = succeeded.get(task);
          if (finished !== undefined) assert.ok(seq < finished, `var of "${task}" (seq ${seq}) precedes its result (seq ${finished})`);
        }
        for (const [task] of succeeded) {
          if (Number(task.slice(1)) % 3 === 0) assert.ok(registered.has(task), `"${task}" succeeded without its var_registered`);
        }

        // Write-ahead: a task's start precedes its result.
        const started = new Set<string>();
        for (const r of records) {
          if (r.type === "task_started") started.add(`${r.task}#${r.attempt}`);
          if (r.type === "task_finished") assert.ok(started.has(`${r.task}#${r.attempt}`), `"${r.task}" finished before it started`);
        }

        const finished = records.some((r) => r.type === "run_status" && r.status !== "running");
        outcomes.push({ finished, succeeded: succeeded.size });
      } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
        await done.catch(() => {});
        await killOrphans(rig);
      }
    });
  }

  test("at least one kill landed mid-run, after some tasks had succeeded", () => {
    assert.equal(outcomes.length, KILL_AFTER_MS.length, "every kill test ran");
    assert.ok(
      outcomes.some((o) => !o.finished && o.succeeded > 0 && o.succeeded < TASKS),
      `no kill was mid-run: ${JSON.stringify(outcomes)}`,
    );
  });
});
