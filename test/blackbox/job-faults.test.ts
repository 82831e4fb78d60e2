/**
 * Faults of the job machinery, one by one, with the exact lines `wf` prints
 * and journals: a launcher killed or stopped while its job runs, `wf` and
 * the launcher killed together, everything killed (the job too) for a task
 * with `resumable = false`, a full disk when the status file is due, and a
 * journaled pid that now belongs to an unrelated process.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { encodeLine } from "../../src/journal/line.ts";
import type { Event } from "../../src/journal/events.ts";
import { collect, type JournalLine, TestRig, until } from "./rig.ts";
import { alive, kill, launcherOf } from "./fault-points.ts";

/** How many times each task's command started (each writes its name to starts.txt first). */
async function starts(rig: TestRig): Promise<string[]> {
  return (await rig.read("starts.txt").catch(() => "")).split("\n").filter(Boolean);
}

const finishedLines = (journal: JournalLine[]) =>
  journal.filter((l) => l.type === "task_finished").map((l) => ({ task: l["task"], attempt: l["attempt"], state: l["state"], exit_code: l["exit_code"], adopted: l["adopted"] }));

/** A task that writes its start, then waits for the file `go` and prints "done". */
const WAITS = (extra = "") => `
[tasks.pay]
cmd = "echo pay >> starts.txt; while [ ! -f go ]; do sleep 0.05; done; echo done"
${extra}
[tasks.after]
cmd = "echo after >> starts.txt"
depends_on = ["pay"]
`;

describe("faults of the job machinery", { concurrency: 2 }, () => {
  for (const retries of [0, 1]) {
    test(`kill -9 of the launcher while its job runs${retries > 0 ? ", retries = 1" : ""}: wf watches the job and takes its result; the command runs once`, async () => {
      await using rig = await TestRig.create();
      await rig.write("w.toml", WAITS(retries > 0 ? "retries = 1" : ""));
      const child = rig.spawn(["run", "w.toml"]);
      const ran = collect(child);
      const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
      const job = await rig.spawnedPid(id, "pay");
      const launcher = await launcherOf(job);
      assert.notEqual(launcher, child.pid, "the job's parent is its launcher");
      kill(launcher);
      await until("the launcher is gone", () => !alive(launcher));
      await rig.write("go", "");
      const r = await ran;
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0, r.stdout);
      assert.doesNotMatch(r.stdout, /could not start|Internal error/);
      assert.deepEqual(await starts(rig), ["pay", "after"]);
      assert.deepEqual(finishedLines(await rig.journal(id)), [
        { task: "pay", attempt: 1, state: "succeeded", exit_code: 0, adopted: undefined },
        { task: "after", attempt: 1, state: "succeeded", exit_code: 0, adopted: undefined },
      ]);
      assert.equal((await rig.run(["logs", id, "pay"])).stdout, "==> pay (attempt 1) <==\ndone\n");
    });
  }

  test("kill -9 of wf and its launcher together: the job runs on, and the resume adopts the exit status its shell recorded", async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", WAITS());
    const child = rig.spawn(["run", "w.toml"]);
    const ran = collect(child);
    const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
    const job = await rig.spawnedPid(id, "pay");
    const launcher = await launcherOf(job);
    kill(child.pid!);
    kill(launcher);
    await ran;
    await until("the launcher is gone", () => !alive(launcher));
    assert.ok(alive(job), "the job outlives wf and its launcher");
    await rig.write("go", "");
    await until("the job ended", () => !alive(job));
    const spawned = await readFile(join(rig.stateDir, "runs", id, "spawned.jsonl"), "utf8");
    assert.ok(spawned.includes('{"exited":"pay.1.status","code":0}\n'), spawned);
    assert.equal(existsSync(join(rig.stateDir, "runs", id, "logs", "pay.1.status")), false, "no launcher wrote a status file");
    const plan = await rig.run(["resume", id, "--dry-run"]);
    assert.match(plan.stdout, /^ {2}adopt pay \(.*exit status 0.*\)$/m, plan.stdout);
    const r = await rig.run(["resume", id]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await starts(rig), ["pay", "after"]);
    assert.deepEqual(finishedLines(await rig.journal(id)), [
      { task: "pay", attempt: 1, state: "succeeded", exit_code: 0, adopted: true },
      { task: "after", attempt: 1, state: "succeeded", exit_code: 0, adopted: undefined },
    ]);
  });

  test("everything killed, the job too: resumable = false stops the resume (exit 3) until --rerun names the task; a resumable task runs again", async () => {
    await using rig = await TestRig.create();
    await rig.write("c.toml", `
[tasks.charge]
cmd = "echo charge >> starts.txt; test -f go || sleep 30"
resumable = false

[tasks.mail]
cmd = "echo mail >> starts.txt; test -f go || sleep 30"
`);
    const child = rig.spawn(["run", "c.toml", "--parallel"]);
    const ran = collect(child);
    const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
    const jobs = [await rig.spawnedPid(id, "charge"), await rig.spawnedPid(id, "mail")];
    const launchers = await Promise.all(jobs.map(launcherOf));
    // A journaled pid is not yet a started command: kill only once both wrote their start.
    await until("both commands started", async () => (await starts(rig)).length === 2);
    kill(child.pid!);
    for (const l of launchers) kill(l);
    for (const j of jobs) kill(-j);
    await ran;
    await until("every process is gone", () => [...jobs, ...launchers].every((p) => !alive(p)));
    await rig.write("go", "");
    const why = (pid: number) => `its outcome is unknown: its job (pid ${pid}) ended and no status was written by its launcher or its shell`;

    const plan = await rig.run(["resume", id, "--dry-run"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.stdout, [
      `Run "${id}" of "c" (interrupted): 1 of 2 tasks would run; 1 stops the resume (resumable = false)`,
      `  stop charge (${why(jobs[0]!)}, and it has resumable = false: pass --rerun charge to run it again)`,
      `  run  mail (interrupted; ${why(jobs[1]!)}: it runs again)`,
      "",
    ].join("\n"));

    const refused = await rig.run(["resume", id]);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [3, "", `Cannot resume run "${id}": task "charge" may have run, and ${why(jobs[0]!)}, and it has resumable = false: pass --rerun charge to run it again\n`]);
    assert.deepEqual((await starts(rig)).sort(), ["charge", "mail"], "the refusal ran nothing");

    const r = await rig.run(["resume", id, "--rerun", "charge"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual((await starts(rig)).sort(), ["charge", "charge", "mail", "mail"]);
    const finished = (await rig.journal(id)).filter((l) => l.type === "task_finished");
    assert.deepEqual(finished.map((l) => [l["task"], l["attempt"], l["state"], l["outcome_unknown"]]).sort(), [
      ["charge", 1, "failed", true], ["charge", 2, "succeeded", undefined], ["mail", 1, "failed", true], ["mail", 2, "succeeded", undefined],
    ]);
  });

  test("SIGSTOP of the launcher while its job runs: wf kills the stopped launcher and keeps the task's timeout itself", async () => {
    await using rig = await TestRig.create();
    await rig.write("s.toml", `[tasks.slow]\ncmd = "echo slow >> starts.txt; sleep 30"\ntimeout = "2s"\n`);
    // The run's own timeout is far beyond the task's, so a slow start under load cannot reach it first.
    const child = rig.spawn(["run", "s.toml", "--timeout", "10s"]);
    // A hang guard, not a measurement: before the fix the run waited for SIGCONT.
    const ran = collect(child, { timeoutMs: 20_000 });
    const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
    const job = await rig.spawnedPid(id, "slow");
    const launcher = await launcherOf(job);
    kill(launcher, "SIGSTOP");
    try {
      const r = await ran;
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, `✗ slow (failed: timed out, attempt 1/1)\n✗ s failed in ${/in (\d+\.\d)s/.exec(r.stdout)?.[1]}s (task "slow" failed: timed out after 2s). Resume with: wf resume ${id}\n`);
      const finished = (await rig.journal(id)).find((l) => l.type === "task_finished");
      assert.deepEqual([finished?.["state"], finished?.["timed_out"], finished?.["error"]], ["failed", true, "timed out after 2s"]);
      assert.ok(Number(finished?.["duration_ms"]) >= 2000, `the duration runs to the timeout: ${finished?.["duration_ms"]}`);
      await until("the stopped launcher was killed", () => !alive(launcher));
      await until("the job's group was ended", () => !alive(job));
      assert.deepEqual(await starts(rig), ["slow"]);
    } finally {
      kill(launcher, "SIGCONT");
      kill(launcher);
      kill(-job);
    }
  });

  test("a full disk when the status file is due (wf dead): the launcher says so in the spawn log, retries, and the resume adopts the file once space is back", async (t) => {
    await using rig = await TestRig.create();
    await mkdir(rig.stateDir, { recursive: true });
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", rig.stateDir], { encoding: "utf8" });
    if (mounted.status !== 0) return t.skip(`cannot mount a tmpfs: ${mounted.stderr.trim()}`);
    try {
      // pay prints nothing once the disk is full: output to its log would fail, and so would the command.
      await rig.write("w.toml", WAITS().replace("; echo done", ""));
      const child = rig.spawn(["run", "w.toml"]);
      const ran = collect(child);
      const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
      const job = await rig.spawnedPid(id, "pay");
      const launcher = await launcherOf(job);
      kill(child.pid!);
      await ran;
      // Fill the file system, then let the job end: its status file cannot be written.
      spawnSync("sh", ["-c", `head -c 10000000 /dev/zero > "${join(rig.stateDir, "filler")}" 2>/dev/null`]);
      await rig.write("go", "");
      const runDir = join(rig.stateDir, "runs", id);
      const spawnLog = join(runDir, "spawned.jsonl");
      await until("the launcher says the disk is full", async () => (await readFile(spawnLog, "utf8")).includes('{"status_error":"pay.1.status","problem":"disk-full"}\n'));
      assert.ok(alive(launcher), "the launcher lives on to retry");
      assert.deepEqual((await readdir(join(runDir, "logs"))).filter((f) => f.includes("status")), [], "no status file, and no empty temporary file left");
      await rm(join(rig.stateDir, "filler"));
      await until("the status file is written once space is back", () => existsSync(join(runDir, "logs", "pay.1.status")));
      await until("the launcher exits", () => !alive(launcher));
      const r = await rig.run(["resume", id]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(await starts(rig), ["pay", "after"]);
      assert.deepEqual(finishedLines(await rig.journal(id)), [
        { task: "pay", attempt: 1, state: "succeeded", exit_code: 0, adopted: true },
        { task: "after", attempt: 1, state: "succeeded", exit_code: 0, adopted: undefined },
      ]);
    } finally {
      spawnSync("umount", ["-l", rig.stateDir]);
    }
  });

  test("a journaled pid without its start time that now belongs to an unrelated process: the resume neither waits on it nor, with --kill-orphans, kills it", async () => {
    await using rig = await TestRig.create();
    await rig.write("p.toml", `[tasks.slow]\ncmd = "echo slow >> starts.txt; test -f go || sleep 30"\n`);
    const child = rig.spawn(["run", "p.toml"]);
    const ran = collect(child);
    const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
    const job = await rig.spawnedPid(id, "slow");
    const launcher = await launcherOf(job);
    await until("the command started", async () => (await starts(rig)).length === 1);
    kill(child.pid!);
    kill(launcher);
    kill(-job);
    await ran;
    await until("every process is gone", () => ![child.pid!, launcher, job].some(alive));
    // An unrelated process takes the place of the pid: the journal and the spawn log name it without a start time.
    const stranger: ChildProcess = spawn("sleep", ["600"], { stdio: "ignore", detached: true });
    try {
      const runDir = join(rig.stateDir, "runs", id);
      const journal = (await readFile(join(runDir, "journal.jsonl"), "utf8")).split("\n").filter(Boolean).map((text) => {
        const { v: _v, crc: _crc, seq, ts, run, ...event } = JSON.parse(text) as Record<string, unknown>;
        if (event["type"] === "task_spawned") {
          event["pid"] = stranger.pid;
          delete event["proc_start"];
        }
        return encodeLine({ seq: seq as number, ts: ts as string, run: run as string }, event as unknown as Event);
      });
      await writeFile(join(runDir, "journal.jsonl"), journal.join(""));
      const spawned = (await readFile(join(runDir, "spawned.jsonl"), "utf8")).split("\n").filter(Boolean).map((text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line["status"] === "slow.1.status") {
          line["pid"] = stranger.pid;
          delete line["proc_start"];
        }
        return `${JSON.stringify(line)}\n`;
      });
      await writeFile(join(runDir, "spawned.jsonl"), spawned.join(""));
      assert.equal((await rig.run(["verify", id])).code, 0, "the edited journal is intact");
      await rig.write("go", "");

      const plan = await rig.run(["resume", id, "--dry-run", "--kill-orphans"]);
      assert.match(plan.stdout, new RegExp(`^ {2}run {2}slow \\(interrupted; its outcome is unknown: .*pid ${stranger.pid}.*\\)$`, "m"), plan.stdout);
      const r = await rig.run(["resume", id, "--kill-orphans"], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(alive(stranger.pid!), "the unrelated process was not killed");
      assert.ok(!(await rig.journalText(id)).includes('"orphan_killed"'), "no orphan_killed line");
      assert.deepEqual(await starts(rig), ["slow", "slow"]);
    } finally {
      kill(stranger.pid!);
    }
  });
});
