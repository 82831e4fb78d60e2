/**
 * `wf report` writes one self-contained HTML page of a run, and
 * `wf show --timeline` draws the same timeline with characters, on journals
 * whose times the test controls (report-journal.ts). The page in a real
 * browser: report-browser.test.ts.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { JournalBuilder } from "./report-journal.ts";
import { collect, killGroup, TestRig, until } from "./rig.ts";

const ID = "TimeLine01";

/** A run that failed (build failed twice; its forensic task ran; package was cancelled) and was resumed 54 s later. */
function failedThenResumed(): JournalBuilder {
  return new JournalBuilder(ID)
    .started(0, [{ id: "lint" }, { id: "build", deps: ["lint"] }, { id: "unit", deps: ["lint"] }, { id: "package", deps: ["build", "unit"] }])
    .status(0, "running")
    .attempt(0, 2000, "lint", 1, { state: "succeeded" })
    .attempt(2000, 5000, "build", 1, { state: "failed", exit: 2, willRetry: true, error: "exit status 2: make: *** [all] Error 2" })
    .attempt(2000, 4000, "unit", 1, { state: "succeeded" })
    .attempt(5000, 6000, "build", 2, { state: "failed", exit: 2, error: "exit status 2: make: *** [all] Error 2" })
    .at(6000, { type: "task_cancelled", task: "package", reason: 'dependency "build" failed' })
    .attempt(6000, 6500, "dump", 1, { state: "succeeded", forensicFor: "build" })
    .status(6500, "failed", { reason: 'task "build" failed: exit status 2: make: *** [all] Error 2' })
    .status(60000, "resuming", { mode: "sequential", max_parallel: 1, cwd: "/srv/ci" })
    .at(60000, { type: "task_skipped", task: "lint", reason: "already succeeded" })
    .at(60000, { type: "task_skipped", task: "unit", reason: "already succeeded" })
    .attempt(60000, 63000, "build", 3, { state: "succeeded" })
    .attempt(63000, 64000, "package", 1, { state: "succeeded" })
    .status(64000, "success");
}

const TIMELINE_80 = `Run       TimeLine01 (ci): success
Timeline  2026-01-08 02:00:00Z to 02:01:04Z (1m4s), 2 executions
                   |run                            ≈|resume 1
* lint             ██████████                                                 2s
* build                     xxxxxxxxxxxxxxxxxxxxx   ████████████████          7s
  unit                      ███████████                                       2s
* package                                       -                  █████      1s
  dump (for build)                              ████                       500ms
                   02:00:00Z                                   02:01:04Z
█ succeeded  x failed  - cancelled before it ran  * critical path
≈ wait between executions
Task time 12.5s in 10.5s of executions, parallelism 1.2,
critical path 10s over 3 tasks
`;

const TIMELINE_50 = `Run       TimeLine01 (ci): success
Timeline  2026-01-08 02:00:00Z to 02:01:04Z (1m4s…
                  |run          ≈|resume 1
* lint            █████                         2s
* build               xxxxxxxxxx ███████        7s
  unit                █████                     2s
* package                      -       ███      1s
  dump (for buil…              ██            500ms
                  02:00:00Z      02:01:04Z
█ succeeded  x failed  - cancelled before it ran
* critical path  ≈ wait between executions
Task time 12.5s in 10.5s of executions,
parallelism 1.2, critical path 10s over 3 tasks
`;

const widest = (text: string) => Math.max(...text.split("\n").map((l) => [...l].length));

describe("wf show --timeline", () => {
  test("draws a bar per attempt, the executions, the wait between them and the critical path, 80 columns wide off a terminal", async () => {
    await using rig = await TestRig.create();
    await failedThenResumed().write(rig.stateDir);
    const r = await rig.run(["show", ID, "--timeline"], { env: { COLUMNS: "" } });
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, TIMELINE_80);
    assert.equal(widest(r.stdout), 80);
  });

  test("fits $COLUMNS", async () => {
    await using rig = await TestRig.create();
    await failedThenResumed().write(rig.stateDir);
    const r = await rig.run(["show", ID, "--timeline"], { env: { COLUMNS: "50" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, TIMELINE_50);
    assert.ok(widest(r.stdout) <= 50);
  });

  test("an interrupted attempt ends at its execution's last record; --json and --timeline together are refused", async () => {
    await using rig = await TestRig.create();
    await new JournalBuilder(ID)
      .started(0, [{ id: "a" }, { id: "b", deps: ["a"] }])
      .status(0, "running")
      .attempt(0, 4000, "a", 1, { state: "succeeded" })
      .open(4000, "b", 1)
      .at(8000, { type: "var_registered", name: "v", value: "1", task: "a" })
      .write(rig.stateDir);
    const r = await rig.run(["show", ID, "--timeline"], { env: { COLUMNS: "60" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Run       TimeLine01 (ci): interrupted
Timeline  2026-01-08 02:00:00Z to 02:00:08Z (8s), 1 executi…
       |run
* a    ███████████████████████                            4s
* b                          ???????????????????????      4s
       02:00:00Z                           02:00:08Z
█ succeeded  ? interrupted  * critical path
Task time 8s in 8s of execution, parallelism 1.0,
critical path 8s over 2 tasks
`);
    const both = await rig.run(["show", ID, "--timeline", "--json"]);
    assert.equal(both.stderr, "Choose one of --json and --timeline: both were given\n");
    assert.equal(both.code, 2);
  });
});

describe("wf report", () => {
  test("writes <run id>.html in the current directory and prints its path; -o - writes the page to stdout", async () => {
    await using rig = await TestRig.create();
    await failedThenResumed().write(rig.stateDir);
    const r = await rig.run(["report", "Time"]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${rig.path(`${ID}.html`)}\n`);
    const html = await rig.read(`${ID}.html`);
    const out = await rig.run(["report", ID, "-o", "-"]);
    assert.equal(out.code, 0, out.stderr);
    // Only the time it was written differs.
    const stamp = (text: string) => text.replace(/Written by wf \S+ at [^.]+\./, "Written.");
    assert.equal(stamp(out.stdout), stamp(html));
    const file = await rig.run(["report", ID, "--output", "sub.html"]);
    assert.equal(file.stdout, `${rig.path("sub.html")}\n`);
  });

  test("the page is self-contained: no URL, no external resource, a policy that forbids any request", async () => {
    await using rig = await TestRig.create();
    await failedThenResumed().write(rig.stateDir);
    const r = await rig.run(["report", ID, "-o", "-"]);
    const html = r.stdout;
    assert.doesNotMatch(html, /https?:/);
    assert.doesNotMatch(html, /\s(src|href)=/);
    assert.doesNotMatch(html, /@import|@font-face|url\((?!#)/);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; /);
    // Every attempt is a bar: 1 + 3 + 1 + 1 + 1 (the forensic task's).
    assert.equal(html.match(/<rect class="bar /g)?.length, 7);
    assert.equal(html.match(/<rect class="mark /g)?.length, 1);
    for (const text of ["resume 1", "sequential", "exit status 2: make: *** [all] Error 2", "logs/build.2.stderr.log", "Forensic task for <code>build</code>", "build-01", "Parallelism achieved"]) {
      assert.ok(html.includes(text), text);
    }
  });

  test("a torn tail is ignored and said; a corrupt journal is drawn from its intact lines with the forensic commands' warning", async () => {
    await using rig = await TestRig.create();
    const path = await failedThenResumed().write(rig.stateDir);
    const text = await readFile(path, "utf8");
    await writeFile(path, `${text}{"v":1,"seq":`);
    const torn = await rig.run(["report", ID, "-o", "-"]);
    assert.equal(torn.stderr, "");
    assert.equal(torn.code, 0);
    assert.match(torn.stdout, /torn tail of 13 bytes after line 30/);
    const lines = text.split("\n");
    const bad = lines.findIndex((l) => l.includes('"type":"task_finished"') && l.includes('"task":"unit"'));
    lines[bad] = lines[bad]!.replace('"exit_code":0', '"exit_code":7');
    await writeFile(path, lines.join("\n"));
    const offset = Buffer.byteLength(lines.slice(0, bad).join("\n")) + 1;
    const damaged = await rig.run(["report", ID, "-o", "-"]);
    const warning = `The journal of run "${ID}" is corrupt at line ${bad + 1} (byte ${offset}): CRC mismatch, and intact records follow; what follows is read from the ${bad} intact lines before it`;
    assert.equal(damaged.stderr, `warning: ${warning}\n`);
    assert.equal(damaged.code, 0);
    assert.ok(damaged.stdout.includes(warning.replace(/"/g, "&quot;")));
  });

  test("a still-running run: its attempt runs until the page is written, and the page says a wf holds the lock; then cancelled by SIGINT", async () => {
    await using rig = await TestRig.create();
    await rig.write("live.toml", `[tasks.a]\ncmd = "touch started; sleep 30"\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n`);
    const child = rig.spawn(["run", "live.toml", "--quiet"]);
    const done = collect(child);
    await rig.waitForFile("started");
    const id = await rig.lastRunId();
    await until("the attempt's spawn", async () => (await rig.journal(id)).some((l) => l.type === "task_spawned"));
    const live = await rig.run(["report", id, "-o", "-"]);
    assert.equal(live.code, 0, live.stderr);
    assert.deepEqual(live.stdout.match(/<rect class="bar [a-z-]+/g), ['<rect class="bar running']);
    assert.match(live.stdout, /holds the run's lock: the run is still going/);
    killGroup(child, "SIGINT");
    assert.equal((await done).code, 130);
    const cancelled = await rig.run(["report", id, "-o", "-"]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.deepEqual(cancelled.stdout.match(/<rect class="(bar|mark) [a-z-]+/g), ['<rect class="bar cancelled', '<rect class="mark cancelled']);
    assert.doesNotMatch(cancelled.stdout, /still going/);
  });

  test("fails as the other inspection commands do: an unknown run, a run with no journal, a file that cannot be written", async () => {
    await using rig = await TestRig.create();
    const path = await failedThenResumed().write(rig.stateDir);
    const none = await rig.run(["report", "zz"]);
    assert.equal(none.stderr, `No run matches "zz" in "${rig.stateDir}"\n`);
    assert.equal(none.code, 2);
    const unwritable = await rig.run(["report", ID, "-o", "no/such/dir/r.html"]);
    assert.equal(unwritable.stderr, `Cannot write "${rig.path("no/such/dir/r.html")}": it does not exist\n`);
    assert.equal(unwritable.code, 1);
    await writeFile(path, "");
    const empty = await rig.run(["report", ID]);
    assert.equal(empty.stderr, `Cannot report run "${ID}": its journal is empty\n`);
    assert.equal(empty.code, 1);
    assert.equal(empty.stdout, "");
  });
});
