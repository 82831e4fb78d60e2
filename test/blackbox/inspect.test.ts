/** The inspection commands through the real CLI, on runs made with `wf run`: exact output, exit codes, prefixes. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile, truncate, writeFile, copyFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { TestRig, collect } from "./rig.ts";

const PIPELINE = `
name = "pipeline"
tags = ["ci"]
on_failure = "alert"

[tasks.lint]
cmd = "echo lint ok"

[tasks.version]
cmd = "echo v1.2.3"
register = "version"

[tasks.test]
cmd = "echo testing; echo 'connection refused' >&2; exit 1"
depends_on = ["lint", "version"]

[tasks.build]
cmd = "echo build {{.version}}"
depends_on = ["test"]

[tasks.alert]
type = "forensic"
cmd = "echo alert {{.failed_task}}"
`;

const OK = `
name = "ok"
[tasks.version]
cmd = "echo v2"
register = "version"
[tasks.flaky]
cmd = "n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; echo try $n; test $n -ge 1"
retries = 1
depends_on = ["version"]
`;

/** Durations and times vary: mask them. */
function mask(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/g, "<time>")
    .replace(/\b\d+(\.\d)?(ms|s)\b/g, "<dur>")
    .replace(/\b\d+m(\d+s)?\b/g, "<dur>")
    .replace(/ {2,}/g, "  ");
}

/** Makes a failed "pipeline" run and a successful "ok" run (with a retry), in that order. */
async function twoRuns(rig: TestRig): Promise<{ failed: string; ok: string }> {
  await rig.write("pipeline.toml", PIPELINE);
  await rig.write("ok.toml", OK);
  assert.equal((await rig.run(["run", "pipeline.toml"])).code, 1);
  const failed = await rig.lastRunId();
  assert.equal((await rig.run(["run", "ok.toml"])).code, 0);
  const ids = await rig.runIds();
  const ok = ids.find((id) => id !== failed)!;
  return { failed, ok };
}

describe("inspection commands", { concurrency: 3 }, () => {
  test("wf runs lists newest first with status, duration and tasks done/total; filters; --json", async () => {
    await using rig = await TestRig.create();
    const empty = await rig.run(["runs"]);
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, `No runs in "${rig.stateDir}"\n`);
    const { failed, ok } = await twoRuns(rig);
    const r = await rig.run(["runs"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(mask(r.stdout), mask([
      "ID          WORKFLOW  STATUS   STARTED  DURATION  TASKS",
      `${ok}  ok        success  <time>   <dur>     2/2`,
      `${failed}  pipeline  failed   <time>   <dur>     2/4`,
      "",
    ].join("\n")));
    assert.equal((await rig.run(["runs", "--limit", "1"])).stdout.split("\n").length, 3);
    assert.match((await rig.run(["runs", "--workflow", "pipeline"])).stdout, new RegExp(`^${failed} `, "m"));
    assert.doesNotMatch((await rig.run(["runs", "--workflow", "pipeline"])).stdout, new RegExp(ok));
    assert.doesNotMatch((await rig.run(["runs", "--tag", "ci"])).stdout, new RegExp(ok));
    assert.doesNotMatch((await rig.run(["runs", "--status", "failed"])).stdout, new RegExp(ok));
    assert.equal((await rig.run(["runs", "--status", "success", "--workflow", "pipeline"])).stdout, "No runs match the filters\n");
    const json = JSON.parse((await rig.run(["runs", "--json"])).stdout) as Record<string, unknown>[];
    assert.deepEqual(json.map((x) => [x["id"], x["workflow"], x["status"], x["tasks_done"], x["tasks_total"], x["live"]]), [
      [ok, "ok", "success", 2, 2, false], [failed, "pipeline", "failed", 2, 4, false],
    ]);
    assert.deepEqual(Object.keys(json[0]!), ["id", "workflow", "tags", "status", "live", "started_at", "ended_at", "duration_ms", "tasks_done", "tasks_total"]);
    const bad = await rig.run(["runs", "--status", "done"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'Invalid --status "done": expected one of running, resuming, success, failed, cancelled, interrupted, unreadable\n');
    const limit = await rig.run(["runs", "--limit", "0"]);
    assert.equal(limit.code, 2);
    assert.equal(limit.stderr, 'Invalid --limit "0": expected a whole number of at least 1\n');
  });

  test("wf runs notices a run made after the index, and a pruned run drops out", async () => {
    await using rig = await TestRig.create();
    await rig.write("ok.toml", `[tasks.a]\ncmd = "true"\n`);
    await rig.run(["run", "ok.toml"]);
    assert.equal((await rig.run(["runs"])).stdout.split("\n").length, 3);
    await rig.run(["run", "ok.toml"]);
    assert.equal((await rig.run(["runs"])).stdout.split("\n").length, 4);
    assert.match(await rig.read("state/index.jsonl"), /^\{"id":"[0-9A-Za-z]{10}","workflow":"ok","tags":\[\],"started":"[^"]+"\}\n/);
    const p = await rig.run(["prune", "--keep", "1"]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await rig.run(["runs"])).stdout.split("\n").length, 3);
    assert.equal((await rig.run(["runs", "--reindex"])).stdout.split("\n").length, 3);
  });

  test("every command says when a run id prefix is unknown or ambiguous (exit 2)", async () => {
    await using rig = await TestRig.create();
    await rig.write("ok.toml", `[tasks.a]\ncmd = "true"\n`);
    for (const cmd of [["show"], ["logs"], ["diff", "zzzzzz"], ["export"], ["verify"], ["graph", "--run"]]) {
      const r = await rig.run([...cmd, "zzzz"]);
      assert.equal(r.code, 2, cmd.join(" "));
      assert.equal(r.stderr.replace(/"zzzz+"/, '"zzzz"'), `No run matches "zzzz" in "${rig.stateDir}"\n`, cmd.join(" "));
    }
    // Make two runs whose ids share a first character, by copying one under another name.
    await rig.run(["run", "ok.toml"]);
    const id = await rig.lastRunId();
    const twin = `${id.slice(0, 1)}${id.slice(1).split("").reverse().join("")}`;
    await mkdir(join(rig.stateDir, "runs", twin));
    const r = await rig.run(["show", id.slice(0, 1)]);
    assert.equal(r.code, 2);
    const both = [id, twin].sort().map((x) => `"${x}"`).join(", ");
    assert.equal(r.stderr, `Run id prefix "${id.slice(0, 1)}" is ambiguous: it matches ${both}\n`);
  });

  test("wf show prints the header, every task, variables and forensic tasks; --json has a stable shape", async () => {
    await using rig = await TestRig.create();
    const { failed, ok } = await twoRuns(rig);
    const r = await rig.run(["show", failed.slice(0, 6)]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(mask(r.stdout), mask([
      `Run       ${failed}`,
      `Workflow  pipeline (${rig.path("pipeline.toml")})`,
      `Directory ${rig.dir}`,
      "Tags      ci",
      'Status    failed: task "test" failed: exit status 1: connection refused',
      "Started   <time>",
      "Duration  <dur>",
      "Mode      sequential",
      "Resumes   0",
      "",
      "TASK     STATE      ATTEMPTS  EXIT  DURATION  NOTE",
      "lint     succeeded  1         0     <dur>",
      "version  succeeded  1         0     <dur>",
      "test     failed     1         1     <dur>     exit status 1: connection refused",
      `build    cancelled  0         -     -         dependency "test" failed`,
      "",
      "Variables",
      `  version = "v1.2.3" (from version)`,
      "",
      "Forensic tasks",
      "  alert for the workflow: succeeded in <dur>",
      "",
    ].join("\n")));
    const okShow = mask((await rig.run(["show", ok])).stdout);
    assert.match(okShow, /^flaky +succeeded +2 +1,0 +<dur>$/m);
    const json = JSON.parse((await rig.run(["show", failed, "--json"])).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), [
      "id", "workflow", "file", "file_sha256", "cwd", "tags", "status", "live", "started_at", "ended_at", "duration_ms", "mode",
      "max_parallel", "resumes", "statuses", "host", "wf_version", "runtime", "var_names", "tasks", "vars", "forensic", "journal",
    ]);
    const tasks = json["tasks"] as Record<string, unknown>[];
    assert.deepEqual(tasks.map((t) => [t["id"], t["state"], (t["attempts"] as unknown[]).length]), [
      ["lint", "succeeded", 1], ["version", "succeeded", 1], ["test", "failed", 1], ["build", "cancelled", 0],
    ]);
    const attempt = (tasks[2]!["attempts"] as Record<string, unknown>[])[0]!;
    assert.equal(attempt["exit_code"], 1);
    assert.equal(attempt["stderr_log"], "logs/test.1.stderr.log");
    assert.deepEqual(json["vars"], { version: { value: "v1.2.3", task: "version", ts: (json["vars"] as Record<string, { ts: string }>)["version"]!.ts } });
  });

  test("wf logs prints each attempt with a header; a task, --attempt and --tail narrow it", async () => {
    await using rig = await TestRig.create();
    const { failed, ok } = await twoRuns(rig);
    const all = await rig.run(["logs", failed]);
    assert.equal(all.stderr, "");
    assert.equal(all.stdout, [
      "==> lint (attempt 1) <==", "lint ok",
      "==> version (attempt 1) <==", "v1.2.3",
      "==> test (attempt 1) <==", "testing",
      "==> test (attempt 1, stderr) <==", "connection refused",
      "==> alert (attempt 1, forensic for the workflow) <==", "alert test", "",
    ].join("\n"));
    assert.equal((await rig.run(["logs", ok, "flaky"])).stdout, "==> flaky (attempt 1) <==\ntry 0\n==> flaky (attempt 2) <==\ntry 1\n");
    assert.equal((await rig.run(["logs", ok, "flaky", "--attempt", "2"])).stdout, "==> flaky (attempt 2) <==\ntry 1\n");
    assert.equal((await rig.run(["logs", failed, "test", "--tail", "0"])).stdout, "==> test (attempt 1) <==\n");
    const noTask = await rig.run(["logs", ok, "nope"]);
    assert.equal(noTask.code, 2);
    assert.equal(noTask.stderr, `Run "${ok}" has no task "nope": its tasks are "version", "flaky"\n`);
    const noAttempt = await rig.run(["logs", ok, "flaky", "--attempt", "3"]);
    assert.equal(noAttempt.code, 2);
    assert.equal(noAttempt.stderr, `Task "flaky" of run "${ok}" has no attempt 3: its attempts are 1, 2\n`);
  });

  test("wf logs -f follows a live run and stops when it ends", async () => {
    await using rig = await TestRig.create();
    await rig.write("slow.toml", `
[tasks.a]
cmd = "echo one; sleep 1; echo two"
[tasks.b]
cmd = "echo three"
depends_on = ["a"]
`);
    const run = rig.spawn(["run", "slow.toml"]);
    const done = collect(run);
    let id: string | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      id = (await rig.runIds())[0];
    }
    assert.ok(id !== undefined);
    // The run's folder is listed before its journal is written: follow it once a task has started.
    await rig.spawnedPid(id, "a");
    const follow = await rig.run(["logs", "-f", id], { timeoutMs: 30_000 });
    assert.equal((await done).code, 0);
    assert.equal(follow.stderr, "");
    assert.equal(follow.code, 0);
    assert.equal(follow.stdout, "==> a (attempt 1) <==\none\ntwo\n==> b (attempt 1) <==\nthree\n");
  });

  test("wf graph: text, dot, mermaid and json; --run adds that run's states", async () => {
    await using rig = await TestRig.create();
    const { failed } = await twoRuns(rig);
    const text = await rig.run(["graph", "pipeline.toml"]);
    assert.equal(text.stdout, [
      "pipeline: 4 tasks in 3 levels", "level 1", "  lint", "  version", "level 2", "  test <- lint, version",
      "level 3", "  build <- test", "forensic", "  alert on failure of the workflow", "",
    ].join("\n"));
    const withRun = await rig.run(["graph", "--run", failed.slice(0, 5)]);
    assert.equal(withRun.stdout, [
      "pipeline: 4 tasks in 3 levels", "level 1", "  ✓ lint (succeeded)", "  ✓ version (succeeded)", "level 2",
      "  ✗ test (failed) <- lint, version", "level 3", "  ✗ build (cancelled) <- test", "forensic", "  ✓ alert (succeeded) on failure of the workflow", "",
    ].join("\n"));
    const dot = await rig.run(["graph", "pipeline.toml", "--format", "dot", "--run", failed]);
    assert.match(dot.stdout, /^ {2}"test" \[label="test\\nfailed", fillcolor="#ffcdd2"\];$/m);
    assert.match(dot.stdout, /^ {2}"lint" -> "test";$/m);
    assert.match((await rig.run(["graph", "pipeline.toml", "--format", "mermaid"])).stdout, /^flowchart LR\n {2}n0\["lint"\]\n/);
    const json = JSON.parse((await rig.run(["graph", "pipeline.toml", "--format", "json"])).stdout) as { levels: string[][] };
    assert.deepEqual(json.levels, [["lint", "version"], ["test"], ["build"]]);
    const bad = await rig.run(["graph", "pipeline.toml", "--format", "png"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'Invalid --format "png": expected one of text, dot, mermaid, json\n');
    const none = await rig.run(["graph"]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "Missing workflow: pass a workflow file or name, or --run <id>\n");
  });

  test("wf diff shows task states, attempts and variables that differ", async () => {
    await using rig = await TestRig.create();
    await rig.write("v.toml", `
[tasks.version]
cmd = "echo v$(cat n 2>/dev/null || echo 1)"
register = "version"
[tasks.check]
cmd = "test -f ok"
depends_on = ["version"]
`);
    await rig.run(["run", "v.toml"]);
    const a = await rig.lastRunId();
    await rig.write("n", "2\n");
    await rig.write("ok", "");
    await rig.run(["run", "v.toml"]);
    const b = (await rig.runIds()).find((id) => id !== a)!;
    const r = await rig.run(["diff", a, b]);
    assert.equal(r.code, 0);
    assert.equal(mask(r.stdout), mask([
      "   RUN         WORKFLOW  STATUS   STARTED  DURATION",
      `A  ${a}  v         failed   <time>   <dur>`,
      `B  ${b}  v         success  <time>   <dur>`,
      "",
      "   TASK     A STATE    A TRIES  A TIME  B STATE    B TRIES  B TIME",
      "   version  succeeded  1        <dur>   succeeded  1        <dur>",
      "*  check    failed     1        <dur>   succeeded  1        <dur>",
      "",
      "Variables that differ",
      `  version: "v1" -> "v2"`,
      "",
      "1 task differs in state or attempts (marked *); 1 variable differs",
      "",
    ].join("\n")));
    const json = JSON.parse((await rig.run(["diff", a, b, "--json"])).stdout) as { vars: unknown };
    assert.deepEqual(json.vars, [{ name: "version", a: "v1", b: "v2" }]);
  });

  test("wf export writes one JSON document, or a tar with the journal, the workflow copy and the logs", async () => {
    await using rig = await TestRig.create();
    const { failed } = await twoRuns(rig);
    const r = await rig.run(["export", failed]);
    assert.equal(r.code, 0);
    const doc = JSON.parse(r.stdout) as { format: string; run: { id: string }; records: { seq: number }[]; workflow_toml: string };
    assert.equal(doc.format, "wf-export");
    assert.equal(doc.run.id, failed);
    assert.equal(doc.workflow_toml, PIPELINE);
    assert.deepEqual(doc.records.map((x) => x.seq), (await rig.journal(failed)).map((x) => x.seq));
    const t = await rig.run(["export", failed.slice(0, 4), "--format", "tar", "-o", "run.tar"]);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout, "");
    const list = spawnSync("tar", ["-tf", "run.tar"], { cwd: rig.dir, encoding: "utf8" });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split("\n"), [
      `${failed}/`, `${failed}/run.json`, `${failed}/journal.jsonl`, `${failed}/spawned.jsonl`, `${failed}/workflow.toml`, `${failed}/logs/`,
      ...["alert", "lint", "test", "version"].flatMap((n) => [`${failed}/logs/${n}.1.stderr.log`, `${failed}/logs/${n}.1.stdout.log`]),
    ]);
    const x = spawnSync("tar", ["-xOf", "run.tar", `${failed}/journal.jsonl`], { cwd: rig.dir, encoding: "utf8" });
    assert.equal(x.stdout, await rig.journalText(failed));
  });

  test("wf prune deletes old runs, --dry-run deletes nothing, and an active run is never deleted", async () => {
    await using rig = await TestRig.create();
    const { failed, ok } = await twoRuns(rig);
    const none = await rig.run(["prune"]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "Nothing to prune by: pass --older-than (e.g. 30d), --keep N, or both\n");
    assert.equal((await rig.run(["prune", "--older-than", "30d"])).stdout, "Deleted 0 runs of 2\n");
    const dry = await rig.run(["prune", "--keep", "1", "--dry-run"]);
    assert.equal(mask(dry.stdout), `Would delete ${failed} (pipeline, failed, started <time>)\nWould delete 1 run of 2\n`);
    assert.deepEqual((await rig.runIds()).sort(), [failed, ok].sort());
    // It lasts until the prune has looked (release), however slow the machine.
    await rig.write("slow.toml", `[tasks.a]\ncmd = "for i in $(seq 600); do test -f release && break; sleep 0.1; done"\n`);
    const slow = rig.spawn(["run", "slow.toml"]);
    const slowDone = collect(slow);
    let live: string | undefined;
    for (let i = 0; i < 100 && live === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      live = (await rig.runIds()).find((id) => id !== failed && id !== ok);
    }
    assert.ok(live !== undefined);
    await rig.spawnedPid(live, "a"); // its journal and lock are in place
    const p = await rig.run(["prune", "--keep", "0"]);
    await rig.write("release", "");
    assert.equal(p.code, 0);
    assert.match(p.stdout, new RegExp(`^Kept ${live} \\(.*\\): it is active \\(pid \\d+ on host ".*"\\)$`, "m"));
    assert.match(p.stdout, /^Deleted 2 runs of 3; kept 1 run that is active$/m);
    assert.equal((await slowDone).code, 0);
    assert.deepEqual(await rig.runIds(), [live]);
  });

  test("wf verify: valid, torn tail (exit 0), corrupt line with its number and byte offset (exit 1)", async () => {
    await using rig = await TestRig.create();
    const { failed } = await twoRuns(rig);
    const path = join(rig.stateDir, "runs", failed, "journal.jsonl");
    const text = await readFile(path, "utf8");
    const lines = text.split("\n").length - 1;
    const ok = await rig.run(["verify", failed]);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, `Journal "${path}" is valid: ${lines} lines\n`);
    await writeFile(rig.path("copy.jsonl"), text.slice(0, -10));
    const torn = await rig.run(["verify", "copy.jsonl"]);
    assert.equal(torn.code, 0);
    const good = Buffer.byteLength(text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1));
    assert.equal(torn.stdout, `Journal "copy.jsonl" is valid up to line ${lines - 1} (byte ${good}), then has a torn tail of ${Buffer.byteLength(text) - 10 - good} bytes: an interrupted write, which wf resume cuts off\n`);
    const third = text.split("\n")[2]!;
    const offset = Buffer.byteLength(text.split("\n").slice(0, 2).join("\n")) + 1;
    await writeFile(path, text.replace(third, third.replace('"running"', '"runninG"')));
    const bad = await rig.run(["verify", failed]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, `Journal "${path}" is corrupt at line 3 (byte ${offset}): CRC mismatch, and intact records follow\n`);
    assert.equal(bad.stdout, "");
  });

  // Every byte offset is covered in-process by test/integration/cli/truncated-journal.test.ts;
  // here the real CLI sees a sample of them: every line boundary, one byte either side, and every 23rd byte.
  test("wf show on a journal cut at sampled byte offsets answers a state or one sentence, never a crash", async () => {
    await using rig = await TestRig.create();
    await rig.write("small.toml", `name = "s"\n[tasks.a]\ncmd = "echo a"\nregister = "x"\n`);
    await rig.run(["run", "small.toml"]);
    const id = await rig.lastRunId();
    const runs = join(rig.stateDir, "runs");
    const source = join(runs, id, "journal.jsonl");
    const size = (await readFile(source)).length;
    assert.ok(size < 2500, `journal is ${size} bytes`);
    // One run directory per offset, each with the journal cut there; ids keep the letters-and-digits rule.
    const text = await readFile(source);
    const offsets = new Set<number>();
    for (let n = 0; n <= size; n++) {
      const boundary = text[n - 1] === 0x0a || text[n] === 0x0a || text[n + 1] === 0x0a;
      if (boundary || n % 23 === 0 || n === size) offsets.add(n);
    }
    const ids: string[] = [];
    for (const n of offsets) {
      const cut = `t${String(n).padStart(6, "0")}${id.slice(0, 3)}`;
      await mkdir(join(runs, cut, "logs"), { recursive: true });
      await copyFile(source, join(runs, cut, "journal.jsonl"));
      await truncate(join(runs, cut, "journal.jsonl"), n);
      ids.push(cut);
    }
    assert.equal((await readdir(runs)).length, offsets.size + 1);
    const failures: string[] = [];
    const batch = 12;
    for (let i = 0; i < ids.length; i += batch) {
      const results = await Promise.all(ids.slice(i, i + batch).map(async (cut) => ({ cut, r: await rig.run(["show", cut]) })));
      for (const { cut, r } of results) {
        const oneSentence = r.code === 1 && r.stdout === "" && /^[^\n]+\n$/.test(r.stderr) && !/Internal error|    at /.test(r.stderr);
        const state = r.code === 0 && r.stderr === "" && r.stdout.startsWith(`Run       ${cut}\n`);
        if (!oneSentence && !state) failures.push(`${cut}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
