/**
 * The jq recipes of journal-format.md ("Recipes for an incident"), run as
 * written with the real `jq` against real journals: a clean one, one whose
 * last line a crash cut in half (plain `jq` stops there), and one found
 * through `$XDG_STATE_HOME` with `WF_STATE_DIR` unset. The first sh block of
 * the section sets `S` and `J`; every later block is a recipe, and each has
 * its expected output below, in the order of the document.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { callerFreeEnv, repoRoot, TestRig } from "./rig.ts";

const WORKFLOW = `name = "nightly"

[tasks.version]
cmd = "echo v1.4.2"
register = "version"

[tasks.build]
cmd = "echo building {{.version}}; echo 'make: *** [build] Error 2' >&2; exit 2"
depends_on = ["version"]
retries = 1
`;

/** The sh blocks of the recipes section: the setup, then the recipes. */
function recipeBlocks(): { setup: string; recipes: string[] } {
  const doc = readFileSync(join(repoRoot(), "journal-format.md"), "utf8");
  const start = doc.indexOf("## Recipes for an incident");
  assert.notEqual(start, -1, "journal-format.md has no recipes section");
  const end = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const [setup, ...recipes] = blocks;
  assert.ok(setup !== undefined && setup.includes("<id>"), "the first sh block of the recipes should set S and J (with <id>)");
  return { setup, recipes };
}

type Case = "clean" | "torn" | "xdg";

const FAILED = `{"ts":"<ts>","status":"failed","reason":"task \\"build\\" failed: exit status 2: make: *** [build] Error 2"}`;
const BUILD_CMD = `echo building v1.4.2; echo 'make: *** [build] Error 2' >&2; exit 2`;

/** What each recipe prints, in document order, for each journal (ids and times replaced). */
const EXPECTED: ((c: Case) => string)[] = [
  // Which task failed, and why.
  () => `{"task":"build","attempt":2,"exit_code":2,"signal":null,"timed_out":false,"error":"exit status 2: make: *** [build] Error 2"}\n`,
  // All attempts of one task.
  () =>
    [1, 2]
      .map(
        (n) =>
          `{"ts":"<ts>","type":"task_started","attempt":${n},"cmd":${JSON.stringify(BUILD_CMD)},"state":null,"exit_code":null,"duration_ms":null}\n` +
          `{"ts":"<ts>","type":"task_finished","attempt":${n},"cmd":null,"state":"failed","exit_code":2,"duration_ms":<n>}\n`,
      )
      .join(""),
  // Variables registered.
  () => `<ts> version version=v1.4.2\n`,
  // When the run stopped: the torn journal lost its final status line.
  (c) =>
    c === "torn"
      ? `{"ts":"<ts>","status":"running","reason":null}\n{"ts":"<ts>","seq":12,"type":"task_finished"}\n`
      : `${FAILED}\n{"ts":"<ts>","seq":13,"type":"run_status"}\n`,
  // Failed runs across the state directory: the torn run's last status is `running`.
  (c) => `<${c === "xdg" ? "xdg" : "clean"}> nightly <ts> task "build" failed: exit status 2: make: *** [build] Error 2\n`,
];

function hasJq(): boolean {
  return spawnSync("jq", ["--version"], { stdio: "ignore" }).status === 0;
}

test("every jq recipe of journal-format.md works on a clean journal, a torn one and one under XDG_STATE_HOME", async (t) => {
  if (!hasJq()) {
    console.log("# skipped: jq is not installed (the journal-format.md recipes need it)");
    return t.skip("jq is not installed");
  }
  const { setup, recipes } = recipeBlocks();
  assert.equal(recipes.length, EXPECTED.length, "a recipe was added or removed in journal-format.md: give it an expected output here");

  await using rig = await TestRig.create();
  await rig.write("nightly.toml", WORKFLOW);
  await mkdir(rig.path("home"));
  assert.equal((await rig.run(["run", "nightly.toml", "--quiet"])).code, 1);
  const clean = await rig.lastRunId();
  assert.equal((await rig.run(["run", "nightly.toml", "--quiet"])).code, 1);
  const torn = await rig.lastRunId();
  // A crash while the final status was written: half of the last line, no newline.
  const tornPath = join(rig.stateDir, "runs", torn, "journal.jsonl");
  const text = await readFile(tornPath, "utf8");
  const lastStart = text.lastIndexOf("\n", text.length - 2) + 1;
  await writeFile(tornPath, text.slice(0, lastStart + Math.floor((text.length - lastStart) / 2)));
  const xdgHome = rig.path("xdg");
  assert.equal((await rig.run(["run", "nightly.toml", "--quiet"], { env: { WF_STATE_DIR: "", XDG_STATE_HOME: xdgHome } })).code, 1);
  const xdgRuns = await readFile(join(xdgHome, "wf", "index.jsonl"), "utf8");
  const xdg = (JSON.parse(xdgRuns.trim()) as { id: string }).id;

  const baseEnv = callerFreeEnv();
  baseEnv["HOME"] = rig.path("home"); // Empty: a recipe that ignored the variables would find nothing.
  const cases: { name: Case; id: string; env: Record<string, string> }[] = [
    { name: "clean", id: clean, env: { ...baseEnv, WF_STATE_DIR: rig.stateDir } },
    { name: "torn", id: torn, env: { ...baseEnv, WF_STATE_DIR: rig.stateDir } },
    { name: "xdg", id: xdg, env: { ...baseEnv, XDG_STATE_HOME: xdgHome } },
  ];
  const names: [string, string][] = [[clean, "<clean>"], [torn, "<torn>"], [xdg, "<xdg>"]];
  const normalise = (out: string): string => {
    let s = out.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<ts>").replace(/"duration_ms":\d+/g, `"duration_ms":<n>`);
    for (const [id, name] of names) s = s.replaceAll(id, name);
    return s;
  };
  const sh = (script: string, env: Record<string, string>) =>
    spawnSync("sh", ["-c", script], { cwd: rig.dir, env, encoding: "utf8" });

  // The torn journal is the case the recipes must survive: plain jq fails on it.
  const plain = sh(`jq -c . "${tornPath}"`, cases[1]!.env);
  assert.notEqual(plain.status, 0, "plain jq should fail on a journal with a torn last line");

  for (const c of cases) {
    recipes.forEach((recipe, i) => {
      const r = sh(`${setup.replaceAll("<id>", c.id)}\n${recipe}`, c.env);
      const where = `recipe ${i + 1} on the ${c.name} journal:\n${recipe}`;
      assert.equal(r.stderr, "", where);
      assert.equal(r.status, 0, where);
      assert.equal(normalise(r.stdout), EXPECTED[i]!(c.name), where);
    });
  }
});
