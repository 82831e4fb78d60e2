/**
 * `wf run FILE --resume-failed[=N]`, start or continue in one cron line
 * (docs/cli.md, "Start or continue"): the last run of the workflow is resumed
 * when it failed, was cancelled or was interrupted, else a new run starts, and
 * the journal says which and why.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { describe, test } from "node:test";
import { collect, killGroup, TestRig } from "./rig.ts";

// first succeeds and counts its starts; flaky fails until the file "fixed" exists.
const FLAKY = ['name = "nightly"', "[tasks.first]", 'cmd = "echo first >> starts.txt"', "[tasks.flaky]", 'depends_on = ["first"]', 'cmd = "echo flaky >> starts.txt; test -f fixed"', ""].join("\n");

const starts = async (rig: TestRig) => (await readFile(rig.path("starts.txt"), "utf8").catch(() => "")).split("\n").filter(Boolean);

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(path), `${path} appeared`);
}

describe("wf run --resume-failed", () => {
  test("a failed last run is resumed, its succeeded tasks skipped; a succeeded one starts a new run; the journal says which", async () => {
    await using rig = await TestRig.create();
    await rig.write("n.toml", FLAKY);
    // No earlier run: a new one.
    const first = await rig.run(["run", "--resume-failed", "n.toml"]);
    assert.equal(first.code, 1, first.stderr);
    const id = await rig.lastRunId();
    assert.match(first.stdout, new RegExp(`^→ new run ${id} \\(--resume-failed\\): there is no earlier run of the workflow\\n`));
    const started = (await rig.journal(id)).find((l) => l.type === "run_started");
    assert.equal(started?.["resume_failed"], "there is no earlier run of the workflow");

    await rig.write("fixed", "");
    const again = await rig.run(["run", "n.toml", "--resume-failed"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      again.stdout.replace(/in \d+(\.\d+)?m?s/g, "in T"),
      `↻ resuming run ${id} (--resume-failed): it failed\n→ first (skipped: already succeeded)\n✓ flaky (succeeded in T)\n✓ nightly completed in T\n`,
    );
    assert.deepEqual(await rig.runIds(), [id], "no new run");
    assert.deepEqual(await starts(rig), ["first", "flaky", "flaky"], "first ran once");
    const resuming = (await rig.journal(id)).filter((l) => l.type === "run_status" && l["status"] === "resuming");
    assert.deepEqual(resuming.map((l) => l["resume_failed"]), ["it failed"]);

    // It succeeded: the next one is a new run.
    const fresh = await rig.run(["run", "n.toml", "--resume-failed", "--quiet"]);
    assert.equal(fresh.code, 0, fresh.stderr);
    const ids = await rig.runIds();
    assert.equal(ids.length, 2);
    const newStart = (await rig.journal(ids[1]!)).find((l) => l.type === "run_started");
    assert.equal(newStart?.["resume_failed"], `the last run, ${id}, succeeded`);
    // --json prints the same records.
    const json = await rig.run(["run", "n.toml", "--resume-failed", "--json"]);
    const line = json.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r["type"] === "run_started");
    assert.equal(line?.["resume_failed"], `the last run, ${ids[1]}, succeeded`);
  });

  test("--resume-failed=N resumes a run at most N times, then starts a new one", async () => {
    await using rig = await TestRig.create();
    await rig.write("n.toml", FLAKY);
    assert.equal((await rig.run(["run", "n.toml", "--quiet"])).code, 1);
    const id = await rig.lastRunId();
    for (const n of [1, 2]) {
      const r = await rig.run(["run", "n.toml", "--resume-failed=2"]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, new RegExp(`^↻ resuming run ${id} \\(--resume-failed\\): it failed; resume ${n} of at most 2\\n`));
    }
    const fresh = await rig.run(["run", "n.toml", "--resume-failed=2"]);
    assert.equal(fresh.code, 1);
    const ids = await rig.runIds();
    assert.equal(ids.length, 2);
    assert.match(fresh.stdout, new RegExp(`^→ new run ${ids[1]} \\(--resume-failed\\): the last run, ${id}, failed but was resumed 2 times already \\(--resume-failed=2\\)\\n`));
    // --resume-failed=0 never resumes; a value that is not a whole number is refused before anything runs.
    const none = await rig.run(["run", "n.toml", "--resume-failed=0", "--dry-run"]);
    assert.equal(none.stdout.split("\n")[0], `Would start a new run (--resume-failed): the last run, ${ids[1]}, failed but was resumed 0 times already (--resume-failed=0)`);
    const bad = await rig.run(["run", "n.toml", "--resume-failed=two"]);
    assert.deepEqual([bad.code, bad.stdout, bad.stderr], [2, "", "Invalid --resume-failed=two: expected a whole number, such as --resume-failed=3\n"]);
    assert.equal((await rig.runIds()).length, 2);
  });

  test("after kill -9 of wf, the job it left running is waited for, never started again", async () => {
    await using rig = await TestRig.create();
    // The job ends only once the resume waits for it (release), so it is still running when the resume looks.
    await rig.write("n.toml", ['name = "nightly"', "[tasks.slow]", 'cmd = "echo slow >> starts.txt; touch running; for i in $(seq 600); do test -f release && break; sleep 0.1; done; echo done > done.txt"', ""].join("\n"));
    const child = rig.spawn(["run", "n.toml", "--quiet"]);
    const killed = collect(child, { timeoutMs: 30_000 });
    await waitFor(rig.path("running"));
    // wf alone: its job lives on in its own process group.
    process.kill(child.pid!, "SIGKILL");
    await killed;
    const id = await rig.lastRunId();
    const resume = collect(rig.spawn(["run", "n.toml", "--resume-failed"]), { timeoutMs: 60_000 });
    for (let i = 0; i < 800 && !(await rig.journalText(id)).includes('"task_reattached"'); i++) await new Promise((r) => setTimeout(r, 25));
    await rig.write("release", "");
    const r = await resume;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^↻ resuming run ${id} \\(--resume-failed\\): it was interrupted\\n… slow \\(still running from the interrupted execution: waiting for pid \\d+\\)\\n`));
    assert.equal(await rig.read("done.txt"), "done\n");
    assert.deepEqual(await starts(rig), ["slow"], "the command ran once");
    assert.deepEqual(await rig.runIds(), [id]);
    assert.ok((await rig.journal(id)).some((l) => l.type === "task_reattached"));
  });

  test("a live last run: --exclusive refuses; without it a new run starts beside it", async () => {
    await using rig = await TestRig.create();
    // The first run's task lasts until the test lets it end.
    await rig.write("n.toml", ['name = "nightly"', "[tasks.slow]", 'cmd = "test -f first-ran || { touch first-ran; for i in $(seq 300); do test -f release && break; sleep 0.1; done; }"', ""].join("\n"));
    const child = rig.spawn(["run", "n.toml", "--quiet"]);
    try {
      const done = collect(child, { timeoutMs: 30_000 });
      for (let i = 0; i < 400 && (await rig.runIds()).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      const [id] = await rig.runIds();
      for (let i = 0; i < 400 && !(await rig.journalText(id!).catch(() => "")).includes('"task_spawned"'); i++) await new Promise((r) => setTimeout(r, 25));
      const refused = await rig.run(["run", "n.toml", "--resume-failed", "--exclusive"]);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, new RegExp(`^Cannot start "nightly": run "${id}" of it is active \\(pid \\d+ on host ".+"\\)\\n$`));
      const beside = await rig.run(["run", "n.toml", "--resume-failed", "--quiet"]);
      assert.equal(beside.code, 0, beside.stderr);
      const ids = await rig.runIds();
      assert.equal(ids.length, 2);
      const started = (await rig.journal(ids[1]!)).find((l) => l.type === "run_started");
      assert.equal(started?.["resume_failed"], `the last run, ${id}, is still going`);
      await rig.write("release", "");
      assert.equal((await done).code, 0);
    } finally {
      killGroup(child, "SIGKILL");
    }
  });

  test("a resume chosen under --exclusive holds the workflow's guard, so a second --exclusive start waits its turn", async () => {
    await using rig = await TestRig.create();
    await rig.write("n.toml", ['name = "nightly"', "[tasks.slow]", 'cmd = "test -f fixed && for i in $(seq 300); do test -f release && break; sleep 0.1; done"', ""].join("\n"));
    assert.equal((await rig.run(["run", "n.toml", "--quiet"])).code, 1);
    const id = await rig.lastRunId();
    await rig.write("fixed", "");
    const child = rig.spawn(["run", "n.toml", "--resume-failed", "--exclusive", "--quiet"]);
    try {
      const done = collect(child, { timeoutMs: 30_000 });
      for (let i = 0; i < 400 && !(await rig.journalText(id)).includes('"resuming"'); i++) await new Promise((r) => setTimeout(r, 25));
      const second = await rig.run(["run", "n.toml", "--resume-failed", "--exclusive"]);
      assert.equal(second.code, 3, second.stdout);
      assert.match(second.stderr, /^Cannot start "nightly": another run of it is active/);
      await rig.write("release", "");
      assert.equal((await done).code, 0);
      assert.deepEqual(await rig.runIds(), [id]);
    } finally {
      killGroup(child, "SIGKILL");
    }
  });
});
