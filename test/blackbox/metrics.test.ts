/**
 * `--metrics-file`: once a `wf run` or `wf resume` has a final status, the file
 * holds the run's outcome in the Prometheus text format, written atomically,
 * and `promtool check metrics` accepts it; a file that cannot be written is
 * one warning, and the run keeps its exit code (docs/cli.md, "Metrics for
 * monitoring"). The alert rules of the README pass `promtool check rules` and
 * fire, under `promtool test rules`, on the series a real run wrote.
 *
 * promtool comes with Debian's prometheus package. Without it the promtool
 * checks are skipped with a line saying so, unless WF_REQUIRE_PROMTOOL is set
 * (CI), where they fail.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { lstat, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test, type TestContext } from "node:test";
import { collect, type JournalLine, repoRoot, type RunResult, TestRig } from "./rig.ts";

const NIGHTLY = `
name = "nightly"

[vars]
send = "no"

[tasks.extract]
cmd = "echo extracted"

[tasks.load]
cmd = "echo loaded"
depends_on = ["extract"]

[tasks.notify]
cmd = "echo sent"
if = 'send == "yes"'
`;

/** Fails once, then succeeds: the first run fails at "load", a resume finishes it. */
const FLAKY = `
name = "nightly"

[tasks.extract]
cmd = "echo extracted"

[tasks.load]
cmd = "test -f marker || { touch marker; exit 1; }"
depends_on = ["extract"]

[tasks.report]
cmd = "echo reported"
depends_on = ["load"]
`;

const SLOW = `
name = "nightly"

[tasks.wait]
cmd = "touch started; sleep 30"
`;

const hasPromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
const promtoolRequired = (process.env["WF_REQUIRE_PROMTOOL"] ?? "") !== "";

/** Whether promtool checks run: skipped (with a line saying why) only when promtool is missing and not required. */
function promtoolHere(t: TestContext): boolean {
  if (hasPromtool) return true;
  assert.ok(!promtoolRequired, "promtool is not installed, and WF_REQUIRE_PROMTOOL is set");
  console.log(`# skipped in "${t.name}": the promtool checks (promtool is not installed; it comes with Debian's prometheus package)`);
  return false;
}

/** `promtool args...` with `stdin`, in `cwd`. */
function promtool(args: string[], opts: { stdin?: string; cwd?: string } = {}) {
  const r = spawnSync("promtool", args, { input: opts.stdin ?? "", encoding: "utf8", ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** promtool check metrics reads the text on stdin: exit 0 and nothing printed, lint warnings included. */
function assertPromtoolAccepts(t: TestContext, text: string): void {
  if (!promtoolHere(t)) return;
  assert.deepEqual(promtool(["check", "metrics"], { stdin: text }), { status: 0, stdout: "", stderr: "" });
}

/** Every sample of an exposition text: `name{labels}` to its value as written. */
function samples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), line.slice(space + 1));
  }
  return out;
}

/** The figures the file must hold for the run whose journal is `journal`, in the order it writes them. */
function expected(journal: JournalLine[], runId: string, status: string, tasks: Record<string, number>, resumes: number): Map<string, string> {
  const started = journal.find((l) => l.type === "run_started")!;
  const final = journal.at(-1)!;
  assert.equal(final["status"], status, "the journal's final status");
  const start = Date.parse(String(started["ts"])) / 1000;
  const end = Date.parse(String(final["ts"])) / 1000;
  const w = 'workflow="nightly"';
  const states = ["pending", "running", "interrupted", "succeeded", "failed", "skipped", "cancelled"];
  return new Map([
    [`wf_last_run_info{${w},run="${runId}"}`, "1"],
    ...["success", "failed", "cancelled"].map((s): [string, string] => [`wf_last_run_status{${w},status="${s}"}`, s === status ? "1" : "0"]),
    [`wf_last_run_start_timestamp_seconds{${w}}`, String(start)],
    [`wf_last_run_end_timestamp_seconds{${w}}`, String(end)],
    [`wf_last_run_duration_seconds{${w}}`, String((Date.parse(String(final["ts"])) - Date.parse(String(started["ts"]))) / 1000)],
    ...states.map((s): [string, string] => [`wf_last_run_tasks{${w},state="${s}"}`, String(tasks[s] ?? 0)]),
    [`wf_last_run_resumes{${w}}`, String(resumes)],
  ]);
}

/** This process's umask (Linux), which the CLI it starts inherits. */
function umask(): number {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("Umask:"));
  return line === undefined ? 0o022 : parseInt(line.slice("Umask:".length).trim(), 8);
}

/** The names in a folder: the metrics file and nothing else (no temporary file left). */
const names = async (rig: TestRig, dir: string) => (await readdir(rig.path(dir))).sort();

/** The run's duration as `wf show --json` gives it, in seconds. */
async function shownSeconds(rig: TestRig, runId: string): Promise<number> {
  const shown = await rig.run(["show", runId, "--json"]);
  assert.equal(shown.code, 0, shown.stderr);
  return (JSON.parse(shown.stdout) as { duration_ms: number }).duration_ms / 1000;
}

describe("--metrics-file", () => {
  test("a run that succeeds writes its figures: promtool accepts them, readable by others, nothing else in the folder", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", NIGHTLY);
    await mkdir(rig.path("textfile"));
    const r = await rig.run(["run", "nightly.toml", "--quiet", "--metrics-file", "textfile/nightly.prom"]);
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: "" });
    const id = await rig.lastRunId();
    const text = await rig.read("textfile/nightly.prom");
    assert.deepEqual(samples(text), expected(await rig.journal(id), id, "success", { succeeded: 2, skipped: 1 }, 0));
    assert.equal(Number(samples(text).get('wf_last_run_duration_seconds{workflow="nightly"}')), await shownSeconds(rig, id));
    assertPromtoolAccepts(t, text);
    assert.equal((await lstat(rig.path("textfile/nightly.prom"))).mode & 0o777, 0o644 & ~umask());
    assert.deepEqual(await names(rig, "textfile"), ["nightly.prom"]);
  });

  test("a failed run says failed; its resume, typed elsewhere with a relative path, overwrites the same file with success and one resume", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", FLAKY);
    await mkdir(rig.path("textfile"));
    await mkdir(rig.path("elsewhere"));
    const failed = await rig.run(["run", "nightly.toml", "--quiet", "--metrics-file", "textfile/nightly.prom"]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.stderr, "");
    const id = await rig.lastRunId();
    const afterFailure = await rig.read("textfile/nightly.prom");
    assert.deepEqual(samples(afterFailure), expected(await rig.journal(id), id, "failed", { succeeded: 1, failed: 1, cancelled: 1 }, 0));
    assertPromtoolAccepts(t, afterFailure);

    // Resolved against the directory wf resume is typed in, not the run's.
    const resumed = await rig.run(["resume", id, "--quiet", "--metrics-file", "../textfile/nightly.prom"], { cwd: "elsewhere" });
    assert.deepEqual({ code: resumed.code, stderr: resumed.stderr }, { code: 0, stderr: "" });
    const afterResume = await rig.read("textfile/nightly.prom");
    assert.deepEqual(samples(afterResume), expected(await rig.journal(id), id, "success", { succeeded: 3 }, 1));
    assert.equal(Number(samples(afterResume).get('wf_last_run_duration_seconds{workflow="nightly"}')), await shownSeconds(rig, id));
    assertPromtoolAccepts(t, afterResume);
    assert.deepEqual(await names(rig, "textfile"), ["nightly.prom"]);
    assert.deepEqual(await names(rig, "elsewhere"), []);
  });

  test("a run cancelled by SIGTERM says cancelled and exits 143", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", SLOW);
    const child = rig.spawn(["run", "nightly.toml", "--quiet", "--metrics-file", "nightly.prom"]);
    const done = collect(child);
    await rig.waitForFile("started");
    process.kill(child.pid!, "SIGTERM");
    const r = await done;
    assert.equal(r.code, 143, r.stderr);
    const id = await rig.lastRunId();
    const text = await rig.read("nightly.prom");
    // The task killed on its way is journaled as failed (killed by SIGTERM); the run is cancelled.
    assert.deepEqual(samples(text), expected(await rig.journal(id), id, "cancelled", { failed: 1 }, 0));
    assertPromtoolAccepts(t, text);
  });

  test("--dry-run and a workflow that cannot start write no metrics file", async () => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", FLAKY);
    await rig.write("broken.toml", `name = "nightly"\n[tasks.a]\ncmd = "true"\ndepends_on = ["nowhere"]\n`);
    await mkdir(rig.path("textfile"));
    assert.equal((await rig.run(["run", "nightly.toml", "--dry-run", "--metrics-file", "textfile/a.prom"])).code, 0);
    assert.equal((await rig.run(["run", "broken.toml", "--metrics-file", "textfile/b.prom"])).code, 2);
    assert.equal((await rig.run(["run", "nightly.toml", "--quiet"])).code, 1);
    assert.equal((await rig.run(["resume", "--dry-run", "--metrics-file", "textfile/c.prom"])).code, 0);
    assert.deepEqual(await names(rig, "textfile"), []);
  });

  describe("a metrics file that cannot be written: one warning on stderr, and the run keeps its outcome and exit code", () => {
    /** Runs `workflow` with `--metrics-file <path>`; the warning names the absolute path. */
    async function runWith(rig: TestRig, path: string, extra: string[] = ["--quiet"]): Promise<RunResult & { journal: JournalLine[] }> {
      const r = await rig.run(["run", "nightly.toml", ...extra, "--metrics-file", path]);
      return { ...r, journal: await rig.journal(await rig.lastRunId()) };
    }

    test("its folder does not exist", async () => {
      await using rig = await TestRig.create();
      await rig.write("nightly.toml", NIGHTLY);
      const ok = await runWith(rig, "missing/nightly.prom");
      assert.deepEqual({ code: ok.code, stderr: ok.stderr, status: ok.journal.at(-1)?.["status"] }, {
        code: 0,
        stderr: `warning: Cannot write the metrics file "${rig.path("missing/nightly.prom")}": it does not exist\n`,
        status: "success",
      });
      assert.match(ok.stdout, /^✓ nightly completed in /);
      await rig.write("nightly.toml", FLAKY);
      const failed = await runWith(rig, "missing/nightly.prom");
      assert.deepEqual({ code: failed.code, stderr: failed.stderr, status: failed.journal.at(-1)?.["status"] }, {
        code: 1,
        stderr: `warning: Cannot write the metrics file "${rig.path("missing/nightly.prom")}": it does not exist\n`,
        status: "failed",
      });
      assert.deepEqual((await names(rig, ".")).filter((n) => n !== "state"), ["marker", "nightly.toml"]);
    });

    test("a folder is at its path: it is left as it was", async () => {
      await using rig = await TestRig.create();
      await rig.write("nightly.toml", NIGHTLY);
      await mkdir(rig.path("textfile/nightly.prom"), { recursive: true });
      const r = await runWith(rig, "textfile/nightly.prom");
      assert.deepEqual({ code: r.code, stderr: r.stderr }, {
        code: 0,
        stderr: `warning: Cannot write the metrics file "${rig.path("textfile/nightly.prom")}": it is a folder\n`,
      });
      assert.deepEqual(await names(rig, "textfile"), ["nightly.prom"]);
      assert.deepEqual(await names(rig, "textfile/nightly.prom"), []);
    });

    test("a pipe is at its path (as /dev/full would be): it is not replaced, and --json keeps stdout JSON", async () => {
      await using rig = await TestRig.create();
      await rig.write("nightly.toml", NIGHTLY);
      await mkdir(rig.path("textfile"));
      assert.equal(spawnSync("mkfifo", [rig.path("textfile/nightly.prom")]).status, 0, "mkfifo");
      const r = await runWith(rig, "textfile/nightly.prom", ["--json"]);
      assert.deepEqual({ code: r.code, stderr: r.stderr }, {
        code: 0,
        stderr: `warning: Cannot write the metrics file "${rig.path("textfile/nightly.prom")}": it is not a regular file\n`,
      });
      const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as JournalLine);
      assert.equal(lines.at(-1)?.["status"], "success");
      assert.ok((await lstat(rig.path("textfile/nightly.prom"))).isFIFO());
      assert.deepEqual(await names(rig, "textfile"), ["nightly.prom"]);
    });
  });
});

/** The README's Prometheus rules: its one fenced yaml block with `groups:`. */
function readmeRules(): string {
  const readme = readFileSync(join(repoRoot(), "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").filter((b) => /^groups:/m.test(b));
  assert.equal(blocks.length, 1, "README.md has one yaml block of Prometheus rules");
  return blocks[0]!;
}

/** promtool's series notation for a sample held `count` more intervals. */
const held = (series: Map<string, string>, count: number, override: Record<string, string> = {}) =>
  [...series].map(([name, value]) => ({ series: name, values: `${override[name] ?? value}x${count}` }));

test("the README's alert rules pass promtool check rules, and fire on a failed run's metrics, on an overdue run and on missing metrics", async (t) => {
  const rules = readmeRules();
  if (!promtoolHere(t)) return t.skip("promtool is not installed");
  await using rig = await TestRig.create();
  await rig.write("rules.yml", rules);
  const checked = promtool(["check", "rules", "rules.yml"], { cwd: rig.dir });
  assert.deepEqual({ status: checked.status, stderr: checked.stderr }, { status: 0, stderr: "" }, checked.stdout);

  // The series come from real runs' files: a failed one, and a succeeded one.
  await rig.write("nightly.toml", FLAKY);
  assert.equal((await rig.run(["run", "nightly.toml", "--quiet", "--metrics-file", "failed.prom"])).code, 1);
  assert.equal((await rig.run(["resume", "--quiet", "--metrics-file", "success.prom"])).code, 0);
  const failed = samples(await rig.read("failed.prom"));
  const succeeded = samples(await rig.read("success.prom"));
  const end = 'wf_last_run_end_timestamp_seconds{workflow="nightly"}';
  const page = { severity: "page", workflow: "nightly" };
  // JSON is YAML: promtool reads this file as it is.
  await writeFile(rig.path("rules.test.yml"), JSON.stringify({
    rule_files: ["rules.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: held(failed, 90),
        alert_rule_test: [
          {
            eval_time: "10m",
            alertname: "WfRunFailed",
            exp_alerts: [{ exp_labels: { ...page, status: "failed" }, exp_annotations: { summary: "The last run of nightly ended failed" } }],
          },
          { eval_time: "10m", alertname: "WfRunOverdue", exp_alerts: [] },
          { eval_time: "80m", alertname: "WfRunMetricsMissing", exp_alerts: [] },
        ],
      },
      {
        // A success that ended at time 0 (the start of promtool's clock), then no run for 30 hours.
        interval: "1h",
        input_series: held(succeeded, 30, { [end]: "0" }),
        alert_rule_test: [
          { eval_time: "25h", alertname: "WfRunOverdue", exp_alerts: [] },
          {
            eval_time: "27h",
            alertname: "WfRunOverdue",
            exp_alerts: [{ exp_labels: page, exp_annotations: { summary: "No run of nightly has ended for more than 26 hours" } }],
          },
          { eval_time: "27h", alertname: "WfRunFailed", exp_alerts: [] },
        ],
      },
      {
        // No file at all: never written, or node_exporter does not read it.
        interval: "1m",
        input_series: [{ series: 'up{job="node"}', values: "1x120" }],
        alert_rule_test: [
          { eval_time: "30m", alertname: "WfRunMetricsMissing", exp_alerts: [] },
          {
            eval_time: "90m",
            alertname: "WfRunMetricsMissing",
            exp_alerts: [{ exp_labels: page, exp_annotations: { summary: "No metrics of nightly: its file is missing, or node_exporter does not read it" } }],
          },
        ],
      },
    ],
  }, null, 2));
  const tested = promtool(["test", "rules", "rules.test.yml"], { cwd: rig.dir });
  assert.equal(tested.status, 0, `${tested.stdout}${tested.stderr}`);
});
