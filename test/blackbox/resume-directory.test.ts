/**
 * A resume runs the remaining tasks where the run ran them (the cron pattern:
 * `cd /srv/etl && wf run ...`, resumed later from a home directory), says so,
 * refuses when that directory is gone, and runs elsewhere only when asked
 * with --cwd.
 */
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

/** `check` fails until a file named "fixed" exists in the directory it runs in. */
const WORKFLOW = `
[tasks.make]
cmd = "echo made > made.txt"

[tasks.check]
cmd = "test -f fixed && cat made.txt"
depends_on = ["make"]
`;

async function failedRunIn(rig: TestRig, dir: string): Promise<string> {
  await mkdir(rig.path(dir), { recursive: true });
  await rig.write("etl.toml", WORKFLOW);
  const first = await rig.run(["run", "../etl.toml", "--quiet"], { cwd: dir });
  assert.equal(first.code, 1, first.stderr);
  return rig.lastRunId();
}

describe("resume and the working directory", () => {
  test("a resume typed in another directory runs the remaining tasks where the run started, and wf show says where", async () => {
    await using rig = await TestRig.create();
    const id = await failedRunIn(rig, "srv");
    await writeFile(rig.path("srv/fixed"), "");
    await mkdir(rig.path("home"));
    const dry = await rig.run(["resume", id, "--dry-run"], { cwd: "home" });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.split("\n")[1], `  note: tasks would run in "${rig.path("srv")}"`);
    const resumed = await rig.run(["resume", id, "--print-output"], { cwd: "home" });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(resumed.stdout.includes("[check] made\n"), resumed.stdout);
    const journal = await rig.journal(id);
    assert.equal(journal.find((l) => l.type === "run_started")?.["cwd"], rig.path("srv"));
    assert.equal(journal.find((l) => l["status"] === "resuming")?.["cwd"], rig.path("srv"));
    const show = await rig.run(["show", id]);
    assert.ok(show.stdout.includes(`\nDirectory ${rig.path("srv")}\n`), show.stdout);
    const json = JSON.parse((await rig.run(["show", id, "--json"])).stdout) as { cwd: string };
    assert.equal(json.cwd, rig.path("srv"));
  });

  test("a working directory that no longer exists is a clear refusal; --cwd runs elsewhere on purpose", async () => {
    await using rig = await TestRig.create();
    const id = await failedRunIn(rig, "srv");
    await rm(rig.path("srv"), { recursive: true });
    const refused = await rig.run(["resume", id]);
    assert.equal(
      refused.stderr,
      `Cannot resume run "${id}": its working directory "${rig.path("srv")}" no longer exists: pass --cwd DIR to run the remaining tasks elsewhere\n`,
    );
    assert.equal(refused.code, 3);
    const missing = await rig.run(["resume", id, "--cwd", "nowhere"]);
    assert.equal(missing.stderr, `Invalid --cwd "${rig.path("nowhere")}": it does not exist\n`);
    assert.equal(missing.code, 2);
    await mkdir(rig.path("elsewhere"));
    await writeFile(rig.path("elsewhere/fixed"), "");
    await writeFile(rig.path("elsewhere/made.txt"), "copied\n");
    const moved = await rig.run(["resume", id, "--cwd", "elsewhere", "--print-output"]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.ok(moved.stdout.includes("[check] copied\n"), moved.stdout);
    const journal = await rig.journal(id);
    assert.equal(journal.filter((l) => l["status"] === "resuming").at(-1)?.["cwd"], rig.path("elsewhere"));
  });
});
