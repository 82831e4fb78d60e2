/**
 * `wf prune` never deletes the wrong run: a run with a damaged journal is
 * dated by the intact part of its journal (not by its folder), never counts
 * toward --keep and is kept unless --include-unreadable asks; a run whose wf
 * was killed with -9 while its task still runs is active.
 */
import assert from "node:assert/strict";
import { rename, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { isAlive } from "../../src/platform/process.ts";
import { formatTime } from "../../src/report/table.ts";
import { TestRig, until } from "./rig.ts";

const TWO_TASKS = `name = "pair"\n[tasks.a]\ncmd = "true"\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n`;

/** The start time prune shows for a run: its run_started line's. */
async function startedOf(rig: TestRig, runId: string): Promise<string> {
  const line = (await rig.journalText(runId)).split("\n")[1]!;
  return formatTime(String((JSON.parse(line) as { ts: string }).ts));
}

/**
 * Three runs of the same workflow, oldest first; the middle one's journal is
 * damaged in its middle (a changed byte in line 4, so its CRC fails) and saved
 * the way an editor saves, by renaming a new file into place: its folder is
 * then the newest of the three, which is what an age taken from folders trips on.
 */
async function threeRuns(rig: TestRig): Promise<{ oldest: string; damaged: string; newest: string; where: string; started: Map<string, string> }> {
  await rig.write("pair.toml", TWO_TASKS);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await rig.run(["run", "pair.toml"]);
    assert.equal(r.code, 0, r.stderr);
    ids.push((await rig.runIds()).find((id) => !ids.includes(id))!);
  }
  const [oldest, damaged, newest] = ids as [string, string, string];
  const started = new Map<string, string>();
  for (const id of ids) started.set(id, await startedOf(rig, id));
  const text = await rig.journalText(damaged);
  const lines = text.split("\n");
  assert.ok(lines[3]!.includes('"cmd":"true"'), lines[3]);
  lines[3] = lines[3]!.replace('"cmd":"true"', '"cmd":"tRue"');
  const dir = join(rig.stateDir, "runs", damaged);
  await writeFile(join(dir, "journal.new"), lines.join("\n"));
  await rename(join(dir, "journal.new"), join(dir, "journal.jsonl"));
  const offset = Buffer.byteLength(lines.slice(0, 3).join("\n")) + 1;
  return { oldest, damaged, newest, where: `line 4 (byte ${offset})`, started };
}

describe("wf prune", { concurrency: 3 }, () => {
  test("--keep 1 with a damaged journal among three runs deletes only the oldest good run and reports the damaged one", async () => {
    await using rig = await TestRig.create();
    const { oldest, damaged, newest, where, started } = await threeRuns(rig);
    const reason = "CRC mismatch, and intact records follow";
    const kept = `Kept ${damaged} (pair, unreadable, started ${started.get(damaged)}): its journal is corrupt at ${where}: ${reason}\n`;
    const dry = await rig.run(["prune", "--keep", "1", "--dry-run"]);
    assert.equal(dry.stderr, "");
    assert.equal(dry.stdout, `${kept}Would delete ${oldest} (pair, success, started ${started.get(oldest)})\nWould delete 1 run of 3; kept 1 unreadable run (pass --include-unreadable to delete it)\n`);
    const p = await rig.run(["prune", "--keep", "1"]);
    assert.equal(p.stderr, "");
    assert.equal(p.stdout, `${kept}Deleted ${oldest} (pair, success, started ${started.get(oldest)})\nDeleted 1 run of 3; kept 1 unreadable run (pass --include-unreadable to delete it)\n`);
    assert.equal(p.code, 0);
    assert.deepEqual((await rig.runIds()).sort(), [damaged, newest].sort());
    const again = await rig.run(["prune", "--keep", "1"]);
    assert.equal(again.stdout, `${kept}Deleted 0 runs of 2; kept 1 unreadable run (pass --include-unreadable to delete it)\n`);
  });

  test("--include-unreadable deletes a damaged run too; it still never counts toward --keep, and --older-than goes by its journal's date", async () => {
    await using rig = await TestRig.create();
    const { oldest, damaged, newest, started } = await threeRuns(rig);
    const young = await rig.run(["prune", "--older-than", "1d", "--include-unreadable"]);
    assert.equal(young.stdout, "Deleted 0 runs of 3\n", "the damaged run's folder is new, and so is its journal's date");
    const p = await rig.run(["prune", "--keep", "1", "--include-unreadable"]);
    assert.equal(p.stderr, "");
    assert.equal(
      p.stdout,
      `Deleted ${damaged} (pair, unreadable, started ${started.get(damaged)})\n` +
        `Deleted ${oldest} (pair, success, started ${started.get(oldest)})\nDeleted 2 runs of 3\n`,
    );
    assert.equal(p.code, 0);
    assert.deepEqual(await rig.runIds(), [newest]);
  });

  test("a run whose wf was killed with -9 is kept while the task it left runs, and deleted once that task ends", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `name = "nightly"\n[tasks.a]\ncmd = "touch started.txt; while [ ! -f stop ]; do sleep 0.05; done"\n`);
    let taskPid: number | undefined;
    try {
      const plain = rig.spawn(["run", "t.toml"]);
      const gone = new Promise<void>((resolve) => plain.once("exit", () => resolve()));
      await rig.waitForFile("started.txt");
      const runId = await rig.lastRunId();
      taskPid = await rig.spawnedPid(runId, "a");
      process.kill(plain.pid!, "SIGKILL"); // wf only: its task's group lives on
      await gone;
      const started = await startedOf(rig, runId);
      const p = await rig.run(["prune", "--keep", "0"]);
      assert.equal(p.stderr, "");
      assert.equal(
        p.stdout,
        `Kept ${runId} (nightly, interrupted, started ${started}): it left task "a" running (pid ${taskPid} on host "${hostname()}")\n` +
          "Deleted 0 runs of 1; kept 1 run that is active\n",
      );
      await rig.write("stop", "");
      const pid = taskPid!;
      await until("the orphan task's end", () => !isAlive(pid));
      const after = await rig.run(["prune", "--keep", "0"]);
      assert.equal(after.stdout, `Deleted ${runId} (nightly, interrupted, started ${started})\nDeleted 1 run of 1\n`);
      assert.deepEqual(await rig.runIds(), []);
    } finally {
      if (taskPid !== undefined) {
        try {
          process.kill(-taskPid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
  });
});
