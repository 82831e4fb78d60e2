/**
 * `register` reads what the task printed, not what its log kept (issue 16,
 * item 4). A job writes its stdout straight into its log file, so when the
 * log's file system fills up nobody but the job sees its writes fail: the
 * launcher sees the file system full, the attempt's task_finished carries
 * `log_error: "disk-full"`, and a task that registers a variable fails with
 * one sentence rather than register the last line that fitted. A log cut at
 * the 64 MiB cap is not lost: the launcher keeps the real tail.
 *
 * The full disk is a 1 MiB tmpfs mounted over the run's logs folder (root
 * only: the tests skip when mount fails), while the run's first task waits.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { collect, type JournalLine, TestRig, until } from "./rig.ts";
import { alive, launcherOf } from "./fault-points.ts";

/** Whether this process may mount a tmpfs (root, outside a locked-down container). */
async function canMount(rig: TestRig): Promise<string | undefined> {
  const probe = rig.path("mount-probe");
  await mkdir(probe, { recursive: true });
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { encoding: "utf8" });
  if (mounted.status !== 0) return `cannot mount a tmpfs: ${(mounted.stderr ?? "").trim() || mounted.error?.message}`;
  spawnSync("umount", ["-l", probe]);
  return undefined;
}

/** Prints about 2 MB of numbered lines (their write errors go nowhere), then the value to register; exits 0 whatever the disk says. */
const PRINTS = `awk 'BEGIN { for (i = 1; i <= 60000; i++) print \\"line \\" i \\" of important output ...\\" }' 2>/dev/null; echo version=1.4.2 || true`;

/** `prep` waits for the file `go`; `build` prints and registers `version` (after `go2` when `waitBuild`); `release` uses it. */
const workflow = (o: { register: boolean; waitBuild?: boolean }) => `
name = "rel"

[tasks.prep]
cmd = "while [ ! -f go ]; do sleep 0.05; done"

[tasks.build]
cmd = "${o.waitBuild === true ? "while [ ! -f go2 ]; do sleep 0.05; done; " : ""}${PRINTS}"
${o.register ? 'register = "version"\n' : ""}depends_on = ["prep"]

[tasks.release]
cmd = "echo releasing ${o.register ? "{{.version}}" : "anyway"} > released.txt"
depends_on = ["build"]
`;

const durations = (text: string) => text.replace(/in \d+(\.\d)?s\b/g, "in Xs");

const finished = (journal: JournalLine[], task: string) => journal.filter((l) => l.type === "task_finished" && l["task"] === task);

/**
 * Starts `wf run w.toml`, mounts a 1 MiB tmpfs over the run's logs folder once
 * it exists (prep's logs are already open below it), and lets prep end.
 * Returns the run's id, the logs folder and the running CLI's result.
 */
async function runOnFullLogs(rig: TestRig): Promise<{ id: string; logs: string; ran: ReturnType<typeof collect> }> {
  const child = rig.spawn(["run", "w.toml"]);
  const ran = collect(child);
  const id = await until("the run exists", async () => (await rig.runIds()).length > 0).then(() => rig.lastRunId());
  const logs = join(rig.stateDir, "runs", id, "logs");
  await until("the logs folder exists", () => existsSync(logs));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", logs], { encoding: "utf8" });
  assert.equal(mounted.status, 0, mounted.stderr);
  return { id, logs, ran };
}

const LOST = 'its output may be lost, so "version" cannot be registered: the file system of its log was full while it ran';

describe("register when the output was lost", { concurrency: 2 }, () => {
  test("a full disk under the logs: the registering task fails with one sentence, log_error says disk-full, its dependent never runs; a resume once space is back registers the real last line", async (t) => {
    await using rig = await TestRig.create();
    const why = await canMount(rig);
    if (why !== undefined) return t.skip(why);
    await rig.write("w.toml", workflow({ register: true }));
    const { id, logs, ran } = await runOnFullLogs(rig);
    try {
      await rig.write("go", "");
      const r = await ran;
      assert.equal(r.stderr, `warning: Cannot write the log of task "build" to "${join(logs, "build.1.stdout.log")}": the disk is full\n`);
      assert.equal(durations(r.stdout), [
        "✓ prep (succeeded in Xs)",
        "✗ build (failed: exit 0, output lost, attempt 1/1)",
        `    ${LOST}`,
        '✗ release (cancelled: dependency "build" failed)',
        `✗ rel failed in Xs (task "build" failed: ${LOST}). Resume with: wf resume ${id}`,
        "",
      ].join("\n"));
      assert.equal(r.code, 1);
      const journal = await rig.journal(id);
      const build = finished(journal, "build");
      assert.deepEqual(build.map((l) => [l["state"], l["exit_code"], l["log_error"], l["error"], l["log_truncated"]]), [["failed", 0, "disk-full", LOST, undefined]]);
      assert.deepEqual(journal.filter((l) => l.type === "var_registered"), [], "no value registered");
      assert.ok(!journal.some((l) => l.type === "task_started" && l["task"] === "release"), "release never started");
      assert.equal(existsSync(rig.path("released.txt")), false);
    } finally {
      spawnSync("umount", ["-l", logs]);
    }
    const again = await rig.run(["resume", id]);
    assert.equal(again.stderr, "");
    assert.equal(again.code, 0, again.stdout);
    const journal = await rig.journal(id);
    assert.deepEqual(journal.filter((l) => l.type === "var_registered").map((l) => [l["name"], l["value"]]), [["version", "version=1.4.2"]]);
    assert.deepEqual(finished(journal, "build").map((l) => [l["attempt"], l["state"], l["log_error"]]), [[1, "failed", "disk-full"], [2, "succeeded", undefined]]);
    assert.equal(await rig.read("released.txt"), "releasing version=1.4.2\n");
  });

  test("a full disk under the logs of a task that registers nothing: it succeeds, log_error says disk-full, a warning says so", async (t) => {
    await using rig = await TestRig.create();
    const why = await canMount(rig);
    if (why !== undefined) return t.skip(why);
    await rig.write("w.toml", workflow({ register: false }));
    const { id, logs, ran } = await runOnFullLogs(rig);
    try {
      await rig.write("go", "");
      const r = await ran;
      // release ran on the same full disk: it printed nothing, but nobody can tell.
      assert.equal(r.stderr, ["build", "release"].map((task) => `warning: Cannot write the log of task "${task}" to "${join(logs, `${task}.1.stdout.log`)}": the disk is full\n`).join(""));
      assert.equal(r.code, 0, r.stdout);
      assert.equal(durations(r.stdout), ["✓ prep (succeeded in Xs)", "✓ build (succeeded in Xs)", "✓ release (succeeded in Xs)", "✓ rel completed in Xs", ""].join("\n"));
      const journal = await rig.journal(id);
      const build = [...finished(journal, "build"), ...finished(journal, "release")];
      assert.deepEqual(build.map((l) => [l["task"], l["state"], l["exit_code"], l["log_error"]]), [["build", "succeeded", 0, "disk-full"], ["release", "succeeded", 0, "disk-full"]]);
      assert.equal(await rig.read("released.txt"), "releasing anyway\n");
    } finally {
      spawnSync("umount", ["-l", logs]);
    }
  });

  test("a full disk under the logs after the launcher was killed: wf reads the job's shell's exit line, sees the logs' file system full, and fails the registering task the same way", async (t) => {
    await using rig = await TestRig.create();
    const why = await canMount(rig);
    if (why !== undefined) return t.skip(why);
    await rig.write("w.toml", workflow({ register: true, waitBuild: true }));
    const { id, logs, ran } = await runOnFullLogs(rig);
    try {
      await rig.write("go", "");
      const job = await rig.spawnedPid(id, "build");
      const launcher = await launcherOf(job);
      process.kill(launcher, "SIGKILL");
      await until("the launcher is gone", () => !alive(launcher));
      await rig.write("go2", "");
      const r = await ran;
      assert.equal(r.stderr, `warning: Cannot write the log of task "build" to "${join(logs, "build.1.stdout.log")}": the disk is full\n`);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /\n✗ build \(failed: exit 0, output lost, attempt 1\/1\)\n/);
      const journal = await rig.journal(id);
      assert.deepEqual(finished(journal, "build").map((l) => [l["state"], l["exit_code"], l["log_error"], l["error"]]), [["failed", 0, "disk-full", LOST]]);
      assert.deepEqual(journal.filter((l) => l.type === "var_registered"), []);
      assert.equal(existsSync(rig.path("released.txt")), false);
    } finally {
      spawnSync("umount", ["-l", logs]);
    }
  });

  test("a log cut at the 64 MiB cap keeps the real last line: register gets it, log_truncated is set and log_error is not", async () => {
    await using rig = await TestRig.create();
    await rig.write("w.toml", `
name = "rel"

[tasks.build]
cmd = "head -c 70000000 /dev/zero | tr '\\\\0' x; echo; echo version=1.4.2"
register = "version"

[tasks.release]
cmd = "echo releasing {{.version}} > released.txt"
depends_on = ["build"]
`);
    const r = await rig.run(["run", "w.toml"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0, r.stdout);
    const id = await rig.lastRunId();
    const journal = await rig.journal(id);
    assert.deepEqual(finished(journal, "build").map((l) => [l["state"], l["log_truncated"], l["log_error"]]), [["succeeded", true, undefined]]);
    assert.deepEqual(journal.filter((l) => l.type === "var_registered").map((l) => [l["name"], l["value"]]), [["version", "version=1.4.2"]]);
    assert.equal(await rig.read("released.txt"), "releasing version=1.4.2\n");
    const log = await readFile(join(rig.stateDir, "runs", id, "logs", "build.1.stdout.log"), "latin1");
    assert.ok(log.includes("\n[wf: output cut at 67108864 bytes]\n"), "the cut is marked");
    assert.ok(log.length < 67108864 + 1024, `the file keeps the first 64 MiB and what came after the cut, not all 70 MB (${log.length})`);
  });
});
