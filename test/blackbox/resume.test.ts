/** `wf resume` through the real CLI (README.md, "wf resume"). */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { isAlive } from "../../src/platform/process.ts";
import { type JournalLine, repoRoot, TestRig } from "./rig.ts";

const RUN_ID = /Resume with: wf resume (\w+)$/m;

function runIdFrom(stdout: string): string {
  const id = RUN_ID.exec(stdout)?.[1];
  assert.ok(id !== undefined, `no resume hint in:\n${stdout}`);
  return id;
}

/** [task, attempt, state] of every final attempt line, in journal order (forensic ones marked). */
function finishes(journal: JournalLine[]): string[] {
  return journal
    .filter((l) => l.type === "task_finished")
    .map((l) => `${l["forensic_for"] === undefined ? "" : "forensic:"}${String(l["task"])}#${String(l["attempt"])}=${String(l["state"])}`);
}

describe("wf resume", { concurrency: 2 }, () => {
  test("the seed scenario: a failed pipeline resumes after the cause is fixed, and nothing that succeeded runs again", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", await readFile(join(repoRoot(), "fixtures", "seed-pipeline.toml"), "utf8"));
    const first = await rig.run(["run", "pipeline.toml"]);
    assert.equal(first.code, 1);
    const id = runIdFrom(first.stdout);
    assert.deepEqual(first.stdout.replace(/in \d+(\.\d)?s/g, "in Xs").split("\n"), [
      "✓ lint (succeeded in Xs)",
      "✓ test-unit (succeeded in Xs)",
      "✗ test-integration (failed: exit 1, attempt 1/1)",
      "    exit status 1: connection refused",
      '✗ build (cancelled: dependency "test-integration" failed)',
      '✗ deploy (cancelled: dependency "test-integration" failed)',
      `✗ pipeline failed in Xs (task "test-integration" failed: exit status 1: connection refused). Resume with: wf resume ${id}`,
      "",
    ]);

    await rig.write("integration-db.ready", "");
    const second = await rig.run(["resume", id]);
    assert.equal(second.stderr, "");
    assert.equal(second.code, 0);
    assert.deepEqual(second.stdout.replace(/in \d+(\.\d)?s/g, "in Xs").split("\n"), [
      "→ lint (skipped: already succeeded)",
      "→ test-unit (skipped: already succeeded)",
      "✓ test-integration (succeeded in Xs)",
      "✓ build (succeeded in Xs)",
      "✓ deploy (succeeded in Xs)",
      "✓ pipeline completed in Xs",
      "",
    ]);
    const journal = await rig.journal(id);
    assert.deepEqual(finishes(journal), [
      "lint#1=succeeded", "test-unit#1=succeeded", "test-integration#1=failed",
      "test-integration#2=succeeded", "build#1=succeeded", "deploy#1=succeeded",
    ]);
    assert.deepEqual(journal.filter((l) => l.type === "run_status").map((l) => l["status"]), ["running", "failed", "resuming", "success"]);
    assert.equal(await rig.read(join("state", "runs", id, "logs", "build.1.stdout.log")), "build with 42 unit tests\n");

    const again = await rig.run(["resume", id]);
    assert.equal(again.code, 3);
    assert.equal(again.stderr, `Cannot resume run "${id}": it already succeeded\n`);
  });

  for (const mode of ["--sequential", "--parallel", "--work-stealing"]) {
    test(`${mode}: a variable registered before the failure reaches a task that runs only after the resume`, async () => {
      await using rig = await TestRig.create();
      await rig.write("v.toml", `
[tasks.version]
cmd = "echo v-$$"
register = "version"
[tasks.other]
cmd = "echo other"
[tasks.gate]
cmd = "test -f go"
depends_on = ["version", "other"]
[tasks.ship]
cmd = "echo {{.version}} $WF_VAR_version > shipped.txt"
depends_on = ["gate"]
`);
      const first = await rig.run(["run", "v.toml", mode]);
      assert.equal(first.code, 1);
      const id = runIdFrom(first.stdout);
      const registered = (await rig.journal(id)).find((l) => l.type === "var_registered")!;
      await rig.write("go", "");
      const second = await rig.run(["resume", id]);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      const value = String(registered["value"]);
      assert.match(value, /^v-\d+$/);
      assert.equal(await rig.read("shipped.txt"), `${value} ${value}\n`);
      const resuming = (await rig.journal(id)).find((l) => l.type === "run_status" && l["status"] === "resuming")!;
      assert.equal(resuming["mode"], mode.slice(2), "a resume keeps the original mode");
    });
  }

  test("a mode flag on resume overrides the original, and the journal records it", async () => {
    await using rig = await TestRig.create();
    await rig.write("m.toml", `[tasks.a]\ncmd = "test -f go"\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n`);
    const id = runIdFrom((await rig.run(["run", "m.toml"])).stdout);
    await rig.write("go", "");
    assert.equal((await rig.run(["resume", id, "--work-stealing", "--max-parallel", "3"])).code, 0);
    const resuming = (await rig.journal(id)).find((l) => l["status"] === "resuming")!;
    assert.deepEqual([resuming["mode"], resuming["max_parallel"]], ["work-stealing", 3]);
  });

  test("--from re-runs that task and its descendants even though they succeeded", async () => {
    await using rig = await TestRig.create();
    await rig.write("f.toml", `
[tasks.a]
cmd = "echo a >> ran.txt"
[tasks.b]
cmd = "echo b >> ran.txt"
depends_on = ["a"]
[tasks.c]
cmd = "echo c >> ran.txt; test -f go"
depends_on = ["b"]
`);
    const id = runIdFrom((await rig.run(["run", "f.toml"])).stdout);
    await rig.write("go", "");
    const r = await rig.run(["resume", id, "--from", "b"]);
    assert.equal(r.code, 0);
    assert.equal(await rig.read("ran.txt"), "a\nb\nc\nb\nc\n");
    assert.ok(r.stdout.startsWith("→ a (skipped: already succeeded)\n"), r.stdout);
  });

  test("--dry-run says for every task whether it would be skipped or run and why, and writes nothing", async () => {
    await using rig = await TestRig.create();
    await rig.write("pipeline.toml", await readFile(join(repoRoot(), "fixtures", "seed-pipeline.toml"), "utf8"));
    const id = runIdFrom((await rig.run(["run", "pipeline.toml"])).stdout);
    const before = await rig.journalText(id);
    const r = await rig.run(["resume", id, "--dry-run", "--from", "test-unit"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      `Run "${id}" of "pipeline" (failed): 4 of 5 tasks would run`,
      "  skip lint (already succeeded)",
      "  run  test-unit (named by --from, had succeeded)",
      "  run  test-integration (a descendant of a --from task)",
      "  run  build (a descendant of a --from task)",
      "  run  deploy (a descendant of a --from task)",
      "",
    ].join("\n"));
    assert.equal(await rig.journalText(id), before);
  });

  test("a structural change refuses to resume and lists it; --force resumes anyway", async () => {
    await using rig = await TestRig.create();
    await rig.write("s.toml", `[tasks.lint]\ncmd = "true"\n[tasks.test]\ncmd = "test -f go"\ndepends_on = ["lint"]\n`);
    const id = runIdFrom((await rig.run(["run", "s.toml"])).stdout);
    await rig.write("s.toml", `[tasks.lint2]\ncmd = "true"\n[tasks.test]\ncmd = "test -f go"\ndepends_on = ["lint2"]\n`);
    await rig.write("go", "");
    const refused = await rig.run(["resume", id]);
    assert.equal(refused.code, 3);
    assert.equal(
      refused.stderr,
      `Cannot resume run "${id}": the workflow changed: task "lint" succeeded but is no longer in the workflow (removed or renamed); the dependencies of "test" changed from [lint] to [lint2]; pass --force to resume anyway\n`,
    );
    const forced = await rig.run(["resume", id, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /✓ lint2 \(succeeded/);
  });

  test("a workflow renamed wholesale is refused in one short sentence: five changes named, the rest counted; --force warns as briefly", async () => {
    await using rig = await TestRig.create();
    const tasks = (prefix: string) => Array.from({ length: 8 }, (_, i) => `[tasks.${prefix}${i}]\ncmd = "true"\n`).join("") + `[tasks.last]\ncmd = "test -f go"\n`;
    await rig.write("w.toml", tasks("old"));
    const id = runIdFrom((await rig.run(["run", "w.toml"])).stdout);
    await rig.write("w.toml", tasks("new"));
    await rig.write("go", "");
    const refused = await rig.run(["resume", id]);
    assert.equal(refused.code, 3);
    const named = [0, 1, 2, 3, 4].map((i) => `task "old${i}" succeeded but is no longer in the workflow (removed or renamed)`).join("; ");
    assert.equal(refused.stderr, `Cannot resume run "${id}": the workflow changed: ${named}; and 3 more changes; pass --force to resume anyway\n`);
    const forced = await rig.run(["resume", id, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stderr.split("\n").filter((l) => l.startsWith("warning: Resuming despite")).length, 6);
    assert.match(forced.stderr, /^warning: Resuming despite 3 more changes \(--force\)$/m);
  });

  test("a changed command of a task that succeeded is a warning naming it and --from", async () => {
    await using rig = await TestRig.create();
    await rig.write("c.toml", `[tasks.lint]\ncmd = "true"\n[tasks.test]\ncmd = "test -f go"\ndepends_on = ["lint"]\n`);
    const id = runIdFrom((await rig.run(["run", "c.toml"])).stdout);
    await rig.write("c.toml", `[tasks.lint]\ncmd = "echo changed"\n[tasks.test]\ncmd = "test -f go"\ndepends_on = ["lint"]\n`);
    await rig.write("go", "");
    const r = await rig.run(["resume", id]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'warning: Task "lint" changed since it succeeded and will not run again: pass --from lint to re-run it\n');
  });

  test("a --var of the original run is not re-applied: the resume stops before anything starts and says what to pass", async () => {
    await using rig = await TestRig.create();
    await rig.write("v.toml", `[tasks.gate]\ncmd = "test -f go"\n[tasks.deploy]\ncmd = "echo {{.target}} > deployed.txt"\ndepends_on = ["gate"]\n`);
    const id = runIdFrom((await rig.run(["run", "v.toml", "--var", "target=prod"])).stdout);
    await rig.write("go", "");
    const refused = await rig.run(["resume", id]);
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      'Variable "target" is needed by "deploy" (it was passed with --var to the original run, and --var values are never stored): pass --var target=VALUE\n',
    );
    assert.equal((await rig.journal(id)).filter((l) => l["status"] === "resuming").length, 0, "nothing was appended");
    const ok = await rig.run(["resume", id, "--var", "target=prod"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(await rig.read("deployed.txt"), "prod\n");
  });

  const FORENSIC = `
[tasks.a]
cmd = "true"
[tasks.b]
cmd = "test -f go-b"
depends_on = ["a"]
on_failure = "collect"
[tasks.c]
cmd = "test -f go-c"
depends_on = ["b"]
on_failure = "collect"
[tasks.collect]
type = "forensic"
cmd = "echo {{.failed_task}} >> forensic.txt"
`;

  test("forensic tasks do not run again when the resumed execution succeeds", async () => {
    await using rig = await TestRig.create();
    await rig.write("f.toml", FORENSIC);
    const id = runIdFrom((await rig.run(["run", "f.toml"])).stdout);
    assert.equal(await rig.read("forensic.txt"), "b\n");
    await rig.write("go-b", "");
    await rig.write("go-c", "");
    assert.equal((await rig.run(["resume", id])).code, 0);
    assert.equal(await rig.read("forensic.txt"), "b\n");
  });

  test("a forensic task runs again when the task it serves fails again in the resumed execution", async () => {
    await using rig = await TestRig.create();
    await rig.write("f.toml", FORENSIC);
    const id = runIdFrom((await rig.run(["run", "f.toml"])).stdout);
    await rig.write("go-b", "");
    const r = await rig.run(["resume", id]);
    assert.equal(r.code, 1);
    assert.equal(await rig.read("forensic.txt"), "b\nc\n");
    assert.deepEqual(finishes(await rig.journal(id)), [
      "a#1=succeeded", "b#1=failed", "forensic:collect#1=succeeded",
      "b#2=succeeded", "c#1=failed", "forensic:collect#2=succeeded",
    ]);
  });

  test("two resumes of the same run at once: exactly one runs, the other exits 3", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `[tasks.a]\ncmd = "test -f go && sleep 1"\n`);
    const id = runIdFrom((await rig.run(["run", "t.toml"])).stdout);
    await rig.write("go", "");
    const [x, y] = await Promise.all([rig.run(["resume", id]), rig.run(["resume", id])]);
    assert.deepEqual([x.code, y.code].sort(), [0, 3]);
    const loser = x.code === 3 ? x : y;
    assert.match(loser.stderr, new RegExp(`^Cannot resume run "${id}": (it is locked by pid \\d+ on host ".+"|it already succeeded)\\n$`));
  });

  test("resume without an id picks the most recent resumable run; unknown prefixes are one sentence", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `name = "t"\n[tasks.a]\ncmd = "test -f go"\n`);
    await rig.run(["run", "t.toml"]);
    const id = runIdFrom((await rig.run(["run", "t.toml"])).stdout);
    const dry = await rig.run(["resume", "--dry-run"]);
    assert.match(dry.stdout, new RegExp(`^Run "${id}" of "t"`));
    const unknown = await rig.run(["resume", "zzzzNoSuch"]);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, `No run matches "zzzzNoSuch" in "${rig.stateDir}"\n`);
    const none = await rig.run(["resume", "--workflow", "other"]);
    assert.equal(none.code, 3);
    assert.equal(none.stderr, 'No resumable run found for workflow "other": nothing failed, was cancelled or was interrupted\n');
  });

  test("a torn last line is cut off, saved, and noted in the journal before the resume appends", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `[tasks.a]\ncmd = "true"\n[tasks.b]\ncmd = "test -f go"\ndepends_on = ["a"]\n`);
    const id = runIdFrom((await rig.run(["run", "t.toml"])).stdout);
    const path = join(rig.stateDir, "runs", id, "journal.jsonl");
    const text = await readFile(path, "utf8");
    const lastLine = text.slice(text.lastIndexOf("\n", text.length - 2) + 1);
    await writeFile(path, text.slice(0, text.length - 10)); // the final status, cut mid-line
    await rig.write("go", "");
    const r = await rig.run(["resume", id]);
    assert.equal(r.code, 0, r.stderr);
    const journal = await rig.journal(id);
    const recovered = journal.find((l) => l.type === "recovered")!;
    assert.equal(recovered["dropped_bytes"], lastLine.length - 10);
    assert.equal(await rig.read(join("state", "runs", id, String(recovered["saved_to"]))), lastLine.slice(0, -10));
    assert.deepEqual(journal.filter((l) => l.type === "run_status").map((l) => l["status"]), ["running", "resuming", "success"]);
  });

  test("a damaged line before the end stops the resume with its line number", async () => {
    await using rig = await TestRig.create();
    await rig.write("t.toml", `[tasks.a]\ncmd = "true"\n[tasks.b]\ncmd = "test -f go"\ndepends_on = ["a"]\n`);
    const id = runIdFrom((await rig.run(["run", "t.toml"])).stdout);
    const path = join(rig.stateDir, "runs", id, "journal.jsonl");
    const lines = (await readFile(path, "utf8")).split("\n");
    lines[3] = lines[3]!.replace('"task":"a"', '"task":"x"');
    await writeFile(path, lines.join("\n"));
    const r = await rig.run(["resume", id]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, new RegExp(`^Cannot resume run "${id}": its journal is corrupt at line 4 \\(byte \\d+\\): CRC mismatch, and intact records follow\\n$`));
  });

  test("a task left running by a killed wf is not started twice: resume would wait for it, --kill-orphans ends it first", async () => {
    await using rig = await TestRig.create();
    await rig.write("o.toml", `[tasks.slow]\ncmd = "echo started > started.txt; sleep 30"\n`);
    const child = rig.spawn(["run", "o.toml"]);
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    await rig.waitForFile("started.txt");
    const id = await rig.lastRunId();
    const pid = await rig.spawnedPid(id, "slow"); // the spawn line is in the journal
    process.kill(child.pid!, "SIGKILL"); // wf only: its task lives on
    await closed;
    const plan = await rig.run(["resume", id, "--dry-run"]);
    assert.deepEqual(plan, {
      code: 0, signal: null, stderr: "",
      stdout: `Run "${id}" of "o" (interrupted): 0 of 1 tasks would run, 1 waited for\n  wait slow (its job is still running as pid ${pid})\n`,
    });
    const withKill = await rig.run(["resume", id, "--dry-run", "--kill-orphans"]);
    assert.equal(withKill.stdout, `Run "${id}" of "o" (interrupted): 1 of 1 tasks would run\n  run  slow (interrupted; its job, still running as pid ${pid}, is ended first (--kill-orphans))\n`);
    await rig.write("o.toml", `[tasks.slow]\ncmd = "echo started > started.txt; sleep 30"\n`);
    const resumed = rig.spawn(["resume", id, "--kill-orphans", "--timeout", "2s"]);
    const code = await new Promise<number | null>((resolve) => resumed.on("close", (c) => resolve(c)));
    assert.equal(code, 1, "the re-run is cut by --timeout");
    assert.equal(isAlive(pid), false, "the orphan is gone");
    const killed = (await rig.journal(id)).find((l) => l.type === "orphan_killed")!;
    assert.deepEqual([killed["task"], killed["pid"], killed["attempt"]], ["slow", pid, 1]);
  });
});
