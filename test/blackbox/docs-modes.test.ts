/**
 * The file modes README.md and journal-format.md promise: every folder `wf`
 * makes in the state directory is 0700 and every file 0600, whatever the mode
 * of the workflow file it copies (a 0755 or 0644 source still gives a 0600
 * `workflow.toml`).
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { appendFile, chmod } from "node:fs/promises";
import { join, relative } from "node:path";
import { test } from "node:test";
import { TestRig } from "./rig.ts";

/** Every path under `dir` (itself included) with its permission bits in octal, sorted. */
function modes(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const st = statSync(path);
    out.push(`${(st.mode & 0o777).toString(8)} ${relative(dir, path) || "."}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out.sort();
}

test("a run, an exclusive run and a resume after a torn tail leave only 0700 folders and 0600 files", async () => {
  await using rig = await TestRig.create();
  await rig.write("open.toml", `[tasks.a]\ncmd = "echo a"\n`);
  await chmod(rig.path("open.toml"), 0o755);
  await rig.write("fails.toml", `[tasks.b]\ncmd = "test -e ok"\nregister = "x"\n`);
  await chmod(rig.path("fails.toml"), 0o644);

  assert.equal((await rig.run(["run", "open.toml", "--quiet"])).code, 0);
  assert.equal((await rig.run(["run", "fails.toml", "--quiet", "--exclusive"])).code, 1);
  const failed = await rig.lastRunId();
  await appendFile(join(rig.stateDir, "runs", failed, "journal.jsonl"), `{"v":1,"seq":9`);
  await rig.write("ok", "");
  const resumed = await rig.run(["resume", failed, "--quiet"]);
  assert.equal(resumed.stderr, "");
  assert.equal(resumed.code, 0);

  const listed = modes(rig.stateDir);
  const kinds = listed.map((line) => {
    const [mode, path] = line.split(" ") as [string, string];
    const dir = statSync(join(rig.stateDir, path)).isDirectory();
    return { mode, path, dir };
  });
  // The copy, the saved torn tail, the logs, the index and the folders are all there.
  for (const name of ["workflow.toml", "journal.jsonl", "index.jsonl", "locks", "logs/b.2.stdout.log"]) {
    assert.ok(kinds.some((k) => k.path.endsWith(name)), `no "${name}" in\n${listed.join("\n")}`);
  }
  assert.ok(kinds.some((k) => /journal\.jsonl\.torn-\d+$/.test(k.path)), listed.join("\n"));
  for (const k of kinds) assert.equal(k.mode, k.dir ? "700" : "600", `${k.path} is ${k.mode}`);
});
