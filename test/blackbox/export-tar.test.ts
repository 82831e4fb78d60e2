/**
 * `wf export --format tar` of a run whose log names outgrow ustar's name
 * fields, checked with the real tar(1): it must list and extract every entry
 * under the run's folder, byte for byte as the run left it.
 */
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { TestRig } from "./rig.ts";

// The listings below are in GNU tar's `-tv` layout.
const hasTar = spawnSync("tar", ["--version"], { encoding: "utf8" }).stdout?.startsWith("tar (GNU tar)") === true;
const LONG = "v".repeat(200);

// A long value, and values that would climb out of the archive if they became path segments.
const WORKFLOW = `[tasks.t]
matrix = { v = ["${LONG}", "../../../outside", "/abs/path"] }
cmd = 'printf "%s\\n" "$WF_VAR_v"'
`;

function tar(cwd: string, args: string[]): string {
  const r = spawnSync("tar", args, { cwd, encoding: "utf8", env: { ...process.env, LC_ALL: "C.UTF-8" } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  return r.stdout;
}

describe("wf export --format tar", { skip: !hasTar }, () => {
  test("a run with a 200-character matrix value exports, and tar(1) lists and extracts it as it is on disk", async () => {
    await using rig = await TestRig.create();
    await rig.write("long.toml", WORKFLOW);
    const run = await rig.run(["run", "long.toml"]);
    assert.equal(run.code, 0, run.stderr);
    const id = await rig.lastRunId();

    const r = await rig.run(["export", id, "--format", "tar", "-o", "run.tar"]);
    assert.deepEqual(r, { code: 0, signal: null, stdout: "", stderr: "" });
    // `-o -` is stdout, as for wf report: no file named "-".
    const toStdout = await rig.run(["export", id, "-o", "-"]);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.equal((JSON.parse(toStdout.stdout) as { run: { id: string } }).run.id, id);
    assert.equal(existsSync(rig.path("-")), false);

    // Ids with "/" or over 160 characters are made safe and given a hash of the id (docs/journal-format.md).
    const named = (id: string, readable: string) => `${readable}~${createHash("sha256").update(id).digest("hex").slice(0, 12)}`;
    const logs = [
      named("t[v=../../../outside]", "t[v=.._.._.._outside]"),
      named("t[v=/abs/path]", "t[v=_abs_path]"),
      named(`t[v=${LONG}]`, `t[v=${LONG}`.slice(0, 100)),
    ].flatMap((n) => [`${n}.1.stderr.log`, `${n}.1.stdout.log`]);
    const files = ["journal.jsonl", "spawned.jsonl", "workflow.toml", ...logs.map((n) => `logs/${n}`)];
    const listed = tar(rig.dir, ["-tf", "run.tar"]).split("\n").slice(0, -1);
    assert.deepEqual(listed, [`${id}/`, `${id}/run.json`, `${id}/journal.jsonl`, `${id}/spawned.jsonl`, `${id}/workflow.toml`, `${id}/logs/`, ...logs.map((n) => `${id}/logs/${n}`)]);

    // -tv shows each file's size as the run folder has it.
    const runDir = join(rig.stateDir, "runs", id);
    const sizes = new Map(tar(rig.dir, ["-tvf", "run.tar"]).split("\n").slice(0, -1).map((line) => {
      const m = /^\S+ \S+ +(\d+) \S+ \S+ (.*)$/.exec(line);
      assert.ok(m, line);
      return [m[2]!, Number(m[1])];
    }));
    for (const f of files) assert.equal(sizes.get(`${id}/${f}`), (await stat(join(runDir, f))).size, f);

    // Extracted three folders deep, so that a "../../../" entry would land in sight.
    const out = rig.path("x/y/out");
    await mkdir(out, { recursive: true });
    tar(out, ["-xf", rig.path("run.tar")]);
    assert.deepEqual(await readdir(rig.path("x/y")), ["out"]);
    assert.deepEqual(await readdir(out), [id]);
    assert.deepEqual((await readdir(join(out, id, "logs"))).sort(), [...logs].sort());
    for (const f of files) assert.deepEqual(await readFile(join(out, id, f)), await readFile(join(runDir, f)), f);
    assert.equal(await readFile(join(out, id, "logs", logs[5]!), "utf8"), `${LONG}\n`);
    assert.equal(await readFile(join(out, id, "logs", logs[1]!), "utf8"), "../../../outside\n");
    assert.equal((JSON.parse(await readFile(join(out, id, "run.json"), "utf8")) as { id: string }).id, id);
  });
});
