/**
 * Faults while a run executes, through the real CLI: a journal that cannot be
 * written, logs that cannot be written, symbolic links planted in a run's
 * folder, --var values kept out of the journal, and durations of 2^31 ms or more.
 *
 * Each test also checks that nothing outside the run's folder was written,
 * apart from the run index and what the test's own tasks wrote.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, renameSync, rmSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { isAlive } from "../../src/platform/process.ts";
import { type JournalLine, TestRig } from "./rig.ts";

/** Every file under `root` with its size and mtime, except under `skip` (a path relative to root). */
function snapshot(root: string, skip: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path);
      else out.set(rel, `${st.size}:${st.mtimeMs}`);
    }
  };
  walk(root);
  return out;
}

/** Paths that differ between two snapshots. */
function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

/** The complete lines of a journal; a torn last line (a write cut by a full disk) is left out. */
function completeLines(text: string): JournalLine[] {
  const lines = text.split("\n");
  lines.pop(); // after the last newline: empty, or a torn line
  return lines.map((l) => JSON.parse(l) as JournalLine);
}

/** Mounts a tmpfs of `size` at `dir`; false (with one printed line) where mounting is not permitted. */
function mountTmpfs(dir: string, size: string): boolean {
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) return true;
  console.log(`skipped: cannot mount a tmpfs (${(r.stderr || r.error?.message || "").trim() || "not permitted"})`);
  return false;
}

function unmount(dir: string): void {
  spawnSync("umount", ["-l", dir]);
}

// b fills the state directory's file system; e, after b, has a command of
// 5,000 characters, so its task_started line is longer than a page and cannot
// be journaled. c, on b's level, runs long, so in work-stealing mode it is
// running when the journal fails, and must be ended: where c runs alongside b,
// b waits for it to start.
const fill = (cSleeps: number) => `
name = "fill"

[tasks.a]
cmd = "echo a"

[tasks.b]
cmd = "${cSleeps > 0 ? "while [ ! -s c.pid ]; do sleep 0.05; done; " : ""}head -c 50000000 /dev/zero > \\"$WF_STATE_DIR/filler\\" 2>/dev/null; true"
depends_on = ["a"]

[tasks.c]
cmd = "echo $$ > c.pid; sleep ${cSleeps}"
depends_on = ["a"]

[tasks.e]
cmd = "echo ${"e".repeat(5000)}"
depends_on = ["b"]
`;

describe("faults while a run executes", { concurrency: 1 }, () => {
  for (const mode of ["--sequential", "--parallel", "--work-stealing"]) {
    test(`${mode}: a full disk under the journal stops the run with one sentence, exit 1 and no stack`, async (t) => {
      await using rig = await TestRig.create();
      await mkdir(rig.stateDir, { recursive: true });
      if (!mountTmpfs(rig.stateDir, "256k")) return t.skip("cannot mount a tmpfs");
      try {
        // In sequential mode c cannot run alongside b: it need not wait. In level-parallel mode e, the
        // write that fails, waits for its level to end, c included: c's sleep is only waited out.
        await rig.write("fill.toml", fill(mode === "--sequential" ? 0 : mode === "--parallel" ? 2 : 60));
        const before = snapshot(rig.dir, ["state", "fill.toml"]);
        const args = mode === "--sequential" ? ["run", "fill.toml", mode] : ["run", "fill.toml", mode, "--max-parallel", "4"];
        const r = await rig.run(args);
        const id = await rig.lastRunId();
        const journalPath = join(rig.stateDir, "runs", id, "journal.jsonl");
        // The tasks that ended on the full disk (b filled it, and their logs share it) warn that their output may be lost.
        const said = r.stderr.split("\n");
        assert.equal(said.at(-1), "");
        assert.equal(said.at(-2), `Cannot write journal "${journalPath}": the disk is full; the run stopped, and it can be resumed once the problem is fixed`);
        for (const line of said.slice(0, -2)) assert.match(line, /^warning: Cannot write the log of task "[bc]" to ".*": the disk is full$/);
        assert.equal(r.code, 1);
        assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, "no stack trace");
        const lines = completeLines(await readFile(journalPath, "utf8"));
        // Nothing after the failure was journaled: no final status, e never started.
        assert.ok(!lines.some((l) => l.type === "run_status" && l["status"] !== "running"));
        assert.ok(!lines.some((l) => l.type === "task_started" && l["task"] === "e"));
        assert.ok(lines.some((l) => l.type === "task_started" && l["task"] === "b"));
        // c's process group, if it was started, was ended.
        const cPid = await rig.read("c.pid").then(Number, () => undefined);
        if (cPid !== undefined) assert.equal(isAlive(cPid), false, "c's group was ended");
        if (mode !== "--sequential") assert.notEqual(cPid, undefined, "c ran alongside b");
        assert.deepEqual(changed(before, snapshot(rig.dir, ["state", "fill.toml"])), cPid === undefined ? [] : ["c.pid"]);
        assert.deepEqual(readdirSync(rig.stateDir).sort(), ["filler", "index.jsonl", "runs"]);
      } finally {
        unmount(rig.stateDir);
      }
    });
  }

  test("a missing logs/ folder: the task's output is lost, the finished line and a warning say so, the run succeeds", async () => {
    await using rig = await TestRig.create();
    await rig.write("logs.toml", `
name = "logs"

[tasks.a]
cmd = "rm -rf \\"$WF_STATE_DIR/runs/$WF_RUN_ID/logs\\""

[tasks.b]
cmd = "echo out; echo err >&2"
depends_on = ["a"]
`);
    const r = await rig.run(["run", "logs.toml"]);
    const id = await rig.lastRunId();
    const log = join(rig.stateDir, "runs", id, "logs", "b.1.stdout.log");
    assert.equal(r.stderr, `warning: Cannot write the log of task "b" to "${log}": it does not exist\n`);
    assert.equal(r.code, 0);
    const finished = (await rig.journal(id)).filter((l) => l.type === "task_finished");
    assert.deepEqual(finished.map((l) => [l["task"], l["state"], l["log_error"]]), [["a", "succeeded", undefined], ["b", "succeeded", "missing"]]);
  });

  test("a symbolic link planted as a log file is not followed: its target is untouched", async () => {
    await using rig = await TestRig.create();
    const target = await rig.write("target.txt", "untouched\n");
    await rig.write("link.toml", `
name = "link"

[tasks.a]
cmd = "ln -s '${target}' \\"$WF_STATE_DIR/runs/$WF_RUN_ID/logs/b.1.stdout.log\\""

[tasks.b]
cmd = "echo written-through"
depends_on = ["a"]
`);
    const before = snapshot(rig.dir, ["state", "link.toml"]);
    const r = await rig.run(["run", "link.toml"]);
    const id = await rig.lastRunId();
    const log = join(rig.stateDir, "runs", id, "logs", "b.1.stdout.log");
    assert.equal(r.stderr, `warning: Cannot write the log of task "b" to "${log}": it is a symbolic link, which wf does not follow there\n`);
    assert.equal(r.code, 0);
    assert.equal(readFileSync(target, "utf8"), "untouched\n");
    assert.deepEqual(changed(before, snapshot(rig.dir, ["state", "link.toml"])), []);
    const finished = (await rig.journal(id)).find((l) => l.type === "task_finished" && l["task"] === "b");
    assert.equal(finished?.["log_error"], "symbolic-link");
  });

  test("symbolic links planted as the index, a run's journal or its lock are not followed: one sentence, targets untouched", async () => {
    await using rig = await TestRig.create();
    const target = await rig.write("target.txt", "untouched\n");
    await rig.write("fails.toml", `
name = "fails"

[tasks.a]
cmd = "exit 1"
`);
    await mkdir(rig.stateDir, { recursive: true });
    symlinkSync(target, join(rig.stateDir, "index.jsonl"));
    const first = await rig.run(["run", "fails.toml"]);
    assert.equal(first.code, 1);
    const id = await rig.lastRunId();
    const dir = join(rig.stateDir, "runs", id);
    const journal = join(dir, "journal.jsonl");

    renameSync(journal, join(rig.dir, "journal.saved"));
    symlinkSync(target, journal);
    const viaJournal = await rig.run(["resume", id]);
    assert.equal(viaJournal.stderr, `Cannot resume run "${id}": its journal "${journal}" cannot be read: it is a symbolic link, which wf does not follow there\n`);
    assert.equal(viaJournal.code, 3);

    rmSync(journal);
    renameSync(join(rig.dir, "journal.saved"), journal);
    symlinkSync(target, join(dir, "lock"));
    const before = await rig.journalText(id);
    const viaLock = await rig.run(["resume", id]);
    assert.equal(viaLock.stderr, `Cannot take the lock "${join(dir, "lock")}": it is a symbolic link, which wf does not follow there\n`);
    assert.equal(viaLock.code, 1);
    const show = await rig.run(["show", id]);
    assert.equal(show.stderr, `Cannot read the lock "${join(dir, "lock")}": it is a symbolic link, which wf does not follow there\n`);
    assert.equal(show.code, 1);
    assert.equal(await rig.journalText(id), before, "the journal was not touched");
    assert.equal(readFileSync(target, "utf8"), "untouched\n");
  });

  test("a symbolic link planted as a run's logs/ folder or as the run's folder stops a resume before anything is written", async () => {
    await using rig = await TestRig.create();
    await rig.write("fails.toml", `[tasks.a]\ncmd = "exit 1"\n`);
    const first = await rig.run(["run", "fails.toml"]);
    assert.equal(first.code, 1);
    const id = await rig.lastRunId();
    const dir = join(rig.stateDir, "runs", id);
    const elsewhere = rig.path("elsewhere");
    await mkdir(elsewhere);
    renameSync(join(dir, "logs"), join(rig.dir, "logs.saved"));
    symlinkSync(elsewhere, join(dir, "logs"));
    const before = await rig.journalText(id);
    const viaLogs = await rig.run(["resume", id]);
    assert.equal(viaLogs.stderr, `Cannot write logs to "${join(dir, "logs")}": it is a symbolic link, which wf does not follow there\n`);
    assert.equal(viaLogs.code, 1);
    assert.equal(await rig.journalText(id), before);
    rmSync(join(dir, "logs"));
    renameSync(join(rig.dir, "logs.saved"), join(dir, "logs"));
    renameSync(dir, join(rig.dir, "run.saved"));
    symlinkSync(join(rig.dir, "run.saved"), dir);
    const viaRun = await rig.run(["resume", id]);
    assert.equal(viaRun.stderr, `Cannot use the run folder "${dir}": it is a symbolic link, which wf does not follow there\n`);
    assert.equal(viaRun.code, 1);
    assert.deepEqual(readdirSync(elsewhere), []);
  });

  test("a --var value never enters the journal; the task still gets it", async () => {
    await using rig = await TestRig.create();
    await rig.write("var.toml", `
name = "var"

[tasks.deploy]
cmd = "echo 'token={{.token}}' > out.txt"
`);
    const r = await rig.run(["run", "var.toml", "--var", "token=s3cr3t-Value"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(await rig.read("out.txt"), "token=s3cr3t-Value\n");
    const id = await rig.lastRunId();
    const text = await rig.journalText(id);
    assert.ok(!text.includes("s3cr3t-Value"), "the value is nowhere in the journal");
    const started = (await rig.journal(id)).find((l) => l.type === "task_started");
    assert.equal(started?.["cmd"], "echo 'token={{.token}}' > out.txt");
    // Nor in any other file of the state directory.
    const grep = spawnSync("grep", ["-r", "-l", "s3cr3t-Value", rig.stateDir], { encoding: "utf8" });
    assert.equal(grep.stdout, "");
  });

  test('a task with timeout = "600h" runs to completion, and --timeout 600h does not cancel the run', async () => {
    await using rig = await TestRig.create();
    await rig.write("long.toml", `
name = "long"

[tasks.slow]
cmd = "sleep 0.3; echo done"
timeout = "600h"
`);
    const r = await rig.run(["run", "long.toml", "--timeout", "600h"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const id = await rig.lastRunId();
    const journal = await rig.journal(id);
    const finished = journal.find((l) => l.type === "task_finished");
    assert.deepEqual([finished?.["state"], finished?.["timed_out"], finished?.["exit_code"]], ["succeeded", false, 0]);
    assert.equal(journal.at(-1)?.["status"], "success");
    assert.ok(statSync(join(rig.stateDir, "runs", id, "logs", "slow.1.stdout.log")).size > 0);
  });
});
