/**
 * `wf run` as cron starts it: `env -i PATH=/usr/bin:/bin`, no HOME, no TTY,
 * stdin closed, so nothing in the environment of a login shell is there to
 * lean on (README "Cron", docs/packaging.md).
 *
 * The CLI command's first word is resolved to an absolute path first, as a
 * crontab line names wf by its full path; the tasks still see only cron's PATH.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { mkdir, readdir, symlink } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { cliCommand, collect, killGroup, type RunResult, TestRig } from "./rig.ts";

const CRON_PATH = "/usr/bin:/bin";

/** The absolute path of `cmd`, looked up on this process's PATH. */
function which(cmd: string): string {
  if (isAbsolute(cmd) || cmd.includes("/")) return cmd;
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir || ".", cmd);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  throw new Error(`Cannot find "${cmd}" on the PATH`);
}

function cronCli(): string[] {
  const [cmd, ...rest] = cliCommand();
  if (cmd === undefined) throw new Error("Internal error: empty CLI command");
  return [which(cmd), ...rest];
}

/**
 * Starts the CLI in the rig directory with exactly `env` (nothing inherited),
 * stdin on /dev/null and pipes for output: no terminal anywhere.
 */
function cronSpawn(rig: TestRig, args: string[], env: Record<string, string>) {
  const [cmd, ...pre] = cronCli();
  return spawn(cmd!, [...pre, ...args], { cwd: rig.dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
}

async function cronRun(rig: TestRig, args: string[], env: Record<string, string> = { PATH: CRON_PATH }): Promise<RunResult> {
  const child = cronSpawn(rig, args, env);
  try {
    return await collect(child, { timeoutMs: 60_000 });
  } finally {
    killGroup(child, "SIGKILL");
  }
}

const NIGHTLY = `
name = "nightly"

[tasks.fetch]
cmd = "echo fetched; echo \\"PATH=$PATH HOME=\${HOME-unset}\\" > env.txt"

[tasks.report]
cmd = "echo reported"
depends_on = ["fetch"]
`;

const BROKEN = `
name = "nightly"

[tasks.fetch]
cmd = "echo fetched"

[tasks.load]
cmd = "echo 'disk on fire' >&2; exit 3"
depends_on = ["fetch"]

[tasks.report]
cmd = "echo reported"
depends_on = ["load"]
`;

/** No escape sequence anywhere: cron mail is plain text. */
function assertPlain(r: RunResult): void {
  assert.ok(!r.stdout.includes("\x1b") && !r.stderr.includes("\x1b"), JSON.stringify(r));
}

describe("wf run under cron", { concurrency: 2 }, () => {
  test("--quiet --state-dir: a success prints only the final line and exits 0", async () => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", NIGHTLY);
    const r = await cronRun(rig, ["run", "nightly.toml", "--quiet", "--state-dir", "cron-state"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✓ nightly completed in \S+\n$/);
    assert.equal(r.stderr, "");
    assertPlain(r);
    assert.equal((await readdir(rig.path("cron-state/runs"))).length, 1);
    assert.equal(await rig.read("env.txt"), `PATH=${CRON_PATH} HOME=unset\n`, "tasks get cron's environment");
  });

  test("--quiet with WF_STATE_DIR: a success prints only the final line and exits 0", async () => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", NIGHTLY);
    const r = await cronRun(rig, ["run", "nightly.toml", "--quiet"], { PATH: CRON_PATH, WF_STATE_DIR: rig.stateDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✓ nightly completed in \S+\n$/);
    assert.equal(r.stderr, "");
    const id = await rig.lastRunId();
    const journal = await rig.journal(id);
    assert.equal(journal.at(-1)?.["status"], "success");
  });

  test("--quiet: a failure prints the failed task and the final line and exits 1", async () => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", BROKEN);
    const r = await cronRun(rig, ["run", "nightly.toml", "--quiet"], { PATH: CRON_PATH, WF_STATE_DIR: rig.stateDir });
    assert.equal(r.code, 1, r.stderr);
    const id = await rig.lastRunId();
    const lines = r.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["✗ load (failed: exit 3, attempt 1/1)", "    exit status 3: disk on fire"]);
    assert.match(lines[2]!, new RegExp(`^✗ nightly failed in \\S+ \\(task "load" failed: exit status 3: disk on fire\\)\\. Resume with: wf resume ${id}$`));
    assert.deepEqual(lines.slice(3), [""], "nothing about the cancelled task, nothing after the final line");
    assert.equal(r.stderr, "");
    assertPlain(r);
  });

  test("with no HOME and no state directory it says so in one sentence and exits 2", async () => {
    await using rig = await TestRig.create();
    await rig.write("nightly.toml", NIGHTLY);
    const r = await cronRun(rig, ["run", "nightly.toml", "--quiet"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "Cannot find the state directory: HOME is not set; pass --state-dir or set WF_STATE_DIR\n");
    assert.ok(!existsSync(rig.path("env.txt")), "no task ran");
  });

  test("--exclusive: a second cron run of the same workflow while the first is active exits 3", async () => {
    await using rig = await TestRig.create();
    // The first run's task lasts until the second has been refused (stop), however slow the machine.
    await rig.write("slow.toml", `name = "nightly"\n[tasks.a]\ncmd = "touch started.txt; for i in $(seq 600); do test -f stop && break; sleep 0.1; done"\n`);
    const env = { PATH: CRON_PATH, WF_STATE_DIR: rig.stateDir };
    const args = ["run", "slow.toml", "--quiet", "--exclusive"];
    const first = cronSpawn(rig, args, env);
    try {
      const firstDone = collect(first, { timeoutMs: 60_000 });
      for (let i = 0; i < 200 && !existsSync(rig.path("started.txt")); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(rig.path("started.txt")), "the first run started its task");
      const second = await cronRun(rig, args, env);
      await rig.write("stop", "");
      assert.equal(second.code, 3);
      assert.equal(second.stdout, "");
      assert.match(second.stderr, /^Cannot start "nightly": another run of it is active \(pid \d+ on host ".+"\)\n$/);
      const done = await firstDone;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /^✓ nightly completed in \S+\n$/);
      assert.equal((await rig.runIds()).length, 1, "the refused run left no run directory");
    } finally {
      killGroup(first, "SIGKILL");
    }
  });

  test("the single executable runs with no node on the PATH", async (t) => {
    await using rig = await TestRig.create();
    const version = await cronRun(rig, ["--version"]);
    if (!version.stdout.includes("single executable")) {
      t.skip(`WF_CLI is not the single executable (it says "${version.stdout.trim()}"); CI runs this with WF_CLI=dist/wf`);
      return;
    }
    // A PATH holding only the tools the workflow uses, so no node can be found.
    await mkdir(rig.path("bin"));
    for (const tool of ["sh", "echo", "sleep"]) await symlink(which(tool), rig.path(`bin/${tool}`));
    await rig.write("nightly.toml", `name = "nightly"\n[tasks.a]\ncmd = "echo hi"\n`);
    const r = await cronRun(rig, ["run", "nightly.toml", "--quiet", "--state-dir", "s"], { PATH: rig.path("bin") });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✓ nightly completed in \S+\n$/);
  });
});
