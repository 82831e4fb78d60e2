/**
 * `wf resume --all-interrupted` after an outage (docs/resume.md, "After an
 * outage"): every run whose wf died is resumed once, failed runs are left
 * alone, and two of it racing resume each run once. Also: the systemd unit the
 * docs give passes `systemd-analyze verify` where systemd is installed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { collect, repoRoot, TestRig } from "./rig.ts";

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(path), `${path} appeared`);
}

/** A workflow whose one task leaves its start in starts.txt, then lasts `seconds`, or until release-<name> exists. */
const workflow = (name: string, seconds: number | "released") => {
  const wait = seconds === "released" ? `for i in $(seq 600); do test -f release-${name} && break; sleep 0.1; done` : `sleep ${seconds}`;
  return [`name = "${name}"`, "[tasks.t]", `cmd = "echo ${name} >> starts.txt; touch go-${name}; ${wait}; echo ${name} >> ends.txt"`, ""].join("\n");
};

/** Runs `name` and kills its wf with -9 once its task started; the job lives on. */
async function interrupted(rig: TestRig, name: string, seconds: number | "released"): Promise<string> {
  await rig.write(`${name}.toml`, workflow(name, seconds));
  const before = new Set(await rig.runIds());
  const child = rig.spawn(["run", `${name}.toml`, "--quiet"]);
  const done = collect(child, { timeoutMs: 30_000 });
  await waitFor(rig.path(`go-${name}`));
  process.kill(child.pid!, "SIGKILL");
  await done;
  const id = (await rig.runIds()).find((r) => !before.has(r));
  assert.ok(id !== undefined);
  return id;
}

const lines = async (rig: TestRig, file: string) => (await readFile(rig.path(file), "utf8").catch(() => "")).split("\n").filter(Boolean).sort();

describe("wf resume --all-interrupted", () => {
  test("resumes every run whose wf died, one with its job still running, and leaves a failed run alone", async () => {
    await using rig = await TestRig.create();
    await rig.write("f.toml", ['name = "f"', "[tasks.t]", 'cmd = "echo f >> starts.txt; exit 1"', ""].join("\n"));
    assert.equal((await rig.run(["run", "f.toml", "--quiet"])).code, 1);
    const failed = await rig.lastRunId();
    // a's and b's jobs end while no wf runs (adopted); c's is still running (waited for).
    const a = await interrupted(rig, "a", 0.5);
    const b = await interrupted(rig, "b", 0.5);
    const c = await interrupted(rig, "c", "released");
    for (let i = 0; i < 200 && (await lines(rig, "ends.txt")).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    const plan = await rig.run(["resume", "--all-interrupted", "--dry-run"]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(plan.stdout.split("\n").filter((l) => l.startsWith("Run ")).map((l) => l.slice(0, 16)), [`Run "${a}"`, `Run "${b}"`, `Run "${c}"`]);
    const resume = collect(rig.spawn(["resume", "--all-interrupted", "--max-runs", "2"]), { timeoutMs: 60_000 });
    // c's job ends only once the resume waits for it.
    for (let i = 0; i < 800 && !(await rig.journalText(c)).includes('"task_reattached"'); i++) await new Promise((r) => setTimeout(r, 25));
    await rig.write("release-c", "");
    const r = await resume;
    assert.equal(r.code, 0, r.stderr);
    const shown = r.stdout.split("\n").filter(Boolean);
    assert.deepEqual(shown.slice(0, 3).map((l) => l.replace(/in \d+(\.\d+)?m?s$/, "in T")).sort(), [
      `✓ ${a} (a): resumed, success in T`, `✓ ${b} (b): resumed, success in T`, `✓ ${c} (c): resumed, success in T`,
    ].sort());
    assert.equal(shown[3], "Resumed 3 of 3 interrupted runs: 3 succeeded, 0 failed or refused");
    assert.equal(shown.length, 4);
    assert.deepEqual(await lines(rig, "starts.txt"), ["a", "b", "c", "f"], "no command ran twice, the failed run's not again");
    assert.deepEqual(await lines(rig, "ends.txt"), ["a", "b", "c"]);
    assert.ok((await rig.journal(c)).some((l) => l.type === "task_reattached"), "c's job was waited for");
    assert.equal((await rig.journal(failed)).filter((l) => l.type === "run_status" && l["status"] === "resuming").length, 0);
    // Nothing is left to do.
    const again = await rig.run(["resume", "--all-interrupted"]);
    assert.deepEqual([again.code, again.stdout], [0, "No interrupted runs\n"]);
  });

  test("two racing resume every run once; each says what it did", async () => {
    await using rig = await TestRig.create();
    const ids = [await interrupted(rig, "a", 1), await interrupted(rig, "b", 1), await interrupted(rig, "c", 1)];
    const first = collect(rig.spawn(["resume", "--all-interrupted", "--max-runs", "2", "--json"]), { timeoutMs: 60_000 });
    const second = collect(rig.spawn(["resume", "--all-interrupted", "--max-runs", "2", "--json"]), { timeoutMs: 60_000 });
    const results = await Promise.all([first, second]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const reports = results.flatMap((r) => r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
    const successes = reports.filter((o) => o["outcome"] === "success").map((o) => o["run"]).sort();
    assert.deepEqual(successes, [...ids].sort(), "each run resumed by exactly one of them");
    for (const o of reports.filter((o) => o["outcome"] !== "success")) assert.equal(o["outcome"], "left-alone", JSON.stringify(o));
    for (const id of ids) {
      const resuming = (await rig.journal(id)).filter((l) => l.type === "run_status" && l["status"] === "resuming");
      assert.equal(resuming.length, 1, `run ${id} resumed once`);
    }
    assert.deepEqual(await lines(rig, "starts.txt"), ["a", "b", "c"]);
    assert.deepEqual(await lines(rig, "ends.txt"), ["a", "b", "c"]);
  });

  test("a run id, --file or --max-runs without --all-interrupted are refused; a switch before a run id does not swallow it", async () => {
    await using rig = await TestRig.create();
    const withId = await rig.run(["resume", "--all-interrupted", "abc"]);
    assert.deepEqual([withId.code, withId.stderr], [2, "--all-interrupted resumes every interrupted run as it is: it takes no run id\n"]);
    const withFile = await rig.run(["resume", "--all-interrupted", "--file", "x.toml"]);
    assert.deepEqual([withFile.code, withFile.stderr], [2, "--all-interrupted resumes every interrupted run as it is: it takes no --file\n"]);
    const maxRuns = await rig.run(["resume", "--max-runs", "2"]);
    assert.deepEqual([maxRuns.code, maxRuns.stderr], [2, "--max-runs goes with --all-interrupted\n"]);
    // `--dry-run RUN`: the id is the run's, and nothing runs.
    await rig.write("f.toml", ['name = "f"', "[tasks.t]", 'cmd = "echo f >> starts.txt; exit 1"', ""].join("\n"));
    assert.equal((await rig.run(["run", "f.toml", "--quiet"])).code, 1);
    const id = await rig.lastRunId();
    const dry = await rig.run(["resume", "--dry-run", id]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^Run "${id}" of "f" \\(failed\\): 1 of 1 tasks would run\\n`));
    const unknown = await rig.run(["resume", "--dry-run", "zzzz"]);
    assert.equal(unknown.code, 2);
    assert.deepEqual(await lines(rig, "starts.txt"), ["f"], "nothing ran again");
  });

  test("the systemd unit of the docs passes systemd-analyze verify", async (t) => {
    if (spawnSync("systemd-analyze", ["--version"]).status !== 0) {
      t.skip("systemd-analyze is not installed");
      return;
    }
    await using rig = await TestRig.create();
    const unit = await readFile(join(repoRoot(), "packaging", "systemd", "wf-resume-interrupted.service"), "utf8");
    // The unit names wf where it is installed; here, an executable that exists.
    const path = rig.path("wf-resume-interrupted.service");
    await writeFile(path, unit.replace(/^ExecStart=\S+/m, "ExecStart=/bin/true"));
    const r = spawnSync("systemd-analyze", ["verify", path], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.split("\n").filter((l) => l.includes("wf-resume-interrupted")).join("\n"), "");
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/wf resume --all-interrupted/m);
  });
});
