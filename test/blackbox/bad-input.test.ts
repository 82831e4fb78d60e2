/**
 * Bad input through the real CLI (docs/errors.md): one clear sentence, with a
 * location when there is one, exit code 2, never a stack trace, and no run
 * directory left behind.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { type RunResult, TestRig } from "./rig.ts";

/** A bad workflow file: the diagnostics `wf run` and `wf validate` both print, then each one's summary. */
interface BadFile {
  readonly name: string;
  readonly file: string;
  readonly source: string;
  /** The `file:line:col: error: ...` lines with their source line and marker. */
  readonly diagnostics: string;
  /** `wf validate --json`'s `errors`. */
  readonly json: { file: string; line: number; column: number; message: string }[];
}

const BAD_FILES: readonly BadFile[] = [
  {
    name: "malformed TOML",
    file: "toml.toml",
    source: `[tasks.a]\ncmd = "echo hi\n`,
    diagnostics: [
      "toml.toml:2:15: error: Invalid TOML: control characters are not allowed in strings",
      '2 | cmd = "echo hi',
      "  |               ^",
    ].join("\n"),
    json: [{ file: "toml.toml", line: 2, column: 15, message: "Invalid TOML: control characters are not allowed in strings" }],
  },
  {
    name: "an unknown key, with a suggestion",
    file: "key.toml",
    source: `[tasks.a]\ncmd = "true"\ndepend_on = []\n`,
    diagnostics: [
      'key.toml:3:1: error: Unknown key "depend_on" in task "a" (did you mean "depends_on"?)',
      "3 | depend_on = []",
      "  | ^~~~~~~~~",
    ].join("\n"),
    json: [{ file: "key.toml", line: 3, column: 1, message: 'Unknown key "depend_on" in task "a" (did you mean "depends_on"?)' }],
  },
  {
    name: "a cycle, naming every task on it",
    file: "cycle.toml",
    source: `[tasks.a]\ncmd = "true"\ndepends_on = ["c"]\n[tasks.b]\ncmd = "true"\ndepends_on = ["a"]\n[tasks.c]\ncmd = "true"\ndepends_on = ["b"]\n`,
    diagnostics: [
      'cycle.toml:3:15: error: Cycle in depends_on: "a" -> "c" -> "b" -> "a"',
      '3 | depends_on = ["c"]',
      "  |               ^~~",
    ].join("\n"),
    json: [{ file: "cycle.toml", line: 3, column: 15, message: 'Cycle in depends_on: "a" -> "c" -> "b" -> "a"' }],
  },
  {
    name: "an unknown dependency, with a suggestion",
    file: "ci.toml",
    source: `[tasks.lint]\ncmd = "true"\n\n[tasks.build]\ncmd = "true"\ndepends_on = ["lnt"]\n`,
    diagnostics: [
      'ci.toml:6:15: error: Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)',
      '6 | depends_on = ["lnt"]',
      "  |               ^~~~~",
    ].join("\n"),
    json: [{ file: "ci.toml", line: 6, column: 15, message: 'Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)' }],
  },
  {
    name: "a bad duration",
    file: "dur.toml",
    source: `[tasks.a]\ncmd = "true"\ntimeout = "5 minutes"\n`,
    diagnostics: [
      'dur.toml:3:11: error: Invalid duration "5 minutes" for "timeout" in task "a": use Go style like "500ms", "30s", "5m" or "1h30m"',
      '3 | timeout = "5 minutes"',
      "  |           ^~~~~~~~~~~",
    ].join("\n"),
    json: [{
      file: "dur.toml", line: 3, column: 11,
      message: 'Invalid duration "5 minutes" for "timeout" in task "a": use Go style like "500ms", "30s", "5m" or "1h30m"',
    }],
  },
  {
    name: "a bad if, marked at the offending operator",
    file: "if.toml",
    source: `[tasks.a]\ncmd = "true"\nif = "x = 1"\n`,
    diagnostics: [
      'if.toml:3:9: error: Invalid "if" in task "a": unknown operator "=" in condition (did you mean "=="?)',
      '3 | if = "x = 1"',
      "  |         ^",
    ].join("\n"),
    json: [{ file: "if.toml", line: 3, column: 9, message: 'Invalid "if" in task "a": unknown operator "=" in condition (did you mean "=="?)' }],
  },
  {
    name: "a forensic task used as a dependency",
    file: "fdep.toml",
    source: `[tasks.a]\ncmd = "true"\ndepends_on = ["f"]\n[tasks.f]\ntype = "forensic"\ncmd = "true"\n`,
    diagnostics: [
      'fdep.toml:3:15: error: Forensic task "f" used as a dependency of "a": forensic tasks run only on failure',
      '3 | depends_on = ["f"]',
      "  |               ^~~",
    ].join("\n"),
    json: [{ file: "fdep.toml", line: 3, column: 15, message: 'Forensic task "f" used as a dependency of "a": forensic tasks run only on failure' }],
  },
  {
    name: "a value of the wrong type",
    file: "type.toml",
    source: `[tasks.a]\ncmd = "true"\nretries = "3"\n`,
    diagnostics: [
      'type.toml:3:11: error: Expected an integer for "retries" in task "a", found a string',
      '3 | retries = "3"',
      "  |           ^~~",
    ].join("\n"),
    json: [{ file: "type.toml", line: 3, column: 11, message: 'Expected an integer for "retries" in task "a", found a string' }],
  },
  {
    name: "an invalid task id",
    file: "id.toml",
    source: `[tasks."a b"]\ncmd = "true"\n`,
    diagnostics: [
      'id.toml:1:1: error: Invalid task id "a b": use only letters, digits, "_" and "-"',
      '1 | [tasks."a b"]',
      "  | ^~~~~~~~~~~~~",
    ].join("\n"),
    json: [{ file: "id.toml", line: 1, column: 1, message: 'Invalid task id "a b": use only letters, digits, "_" and "-"' }],
  },
  {
    name: "on_failure naming a task that is not forensic",
    file: "onf.toml",
    source: `[tasks.a]\ncmd = "true"\non_failure = "b"\n[tasks.b]\ncmd = "true"\n`,
    diagnostics: [
      'onf.toml:3:14: error: Task "b" in on_failure of "a" is not forensic: add type = "forensic" to it',
      '3 | on_failure = "b"',
      "  |              ^~~",
    ].join("\n"),
    json: [{ file: "onf.toml", line: 3, column: 14, message: 'Task "b" in on_failure of "a" is not forensic: add type = "forensic" to it' }],
  },
  {
    name: "two tasks registering the same variable",
    file: "reg.toml",
    source: `[tasks.a]\ncmd = "echo 1"\nregister = "v"\n[tasks.b]\ncmd = "echo 2"\nregister = "v"\n`,
    diagnostics: [
      'reg.toml:6:12: error: Variable "v" is registered by both "a" and "b"',
      '6 | register = "v"',
      "  |            ^~~",
    ].join("\n"),
    json: [{ file: "reg.toml", line: 6, column: 12, message: 'Variable "v" is registered by both "a" and "b"' }],
  },
];

/** Bad usage that is not about a file's contents: one sentence, no location. */
const BAD_USAGE: readonly { name: string; args: string[]; stderr: string }[] = [
  {
    name: "a file that does not exist",
    args: ["run", "nope.toml"],
    stderr: 'Cannot find workflow "nope.toml": no such file, and no "workflows/nope.toml"\n',
  },
  {
    name: "a file that does not exist, at validate",
    args: ["validate", "nope.toml"],
    stderr: 'Cannot find workflow "nope.toml": no such file, and no "workflows/nope.toml"\n',
  },
  {
    name: "an unknown option",
    args: ["run", "ok.toml", "--bogus"],
    stderr: 'Unknown option "--bogus" for "wf run": run "wf run --help" for usage\n',
  },
  {
    name: "--var without =",
    args: ["run", "ok.toml", "--var", "FOO"],
    stderr: 'Invalid --var "FOO": expected NAME=VALUE with a name made of letters, digits and "_"\n',
  },
  {
    name: "two modes at once",
    args: ["run", "ok.toml", "--parallel", "--work-stealing"],
    stderr: "Choose one mode: --parallel and --work-stealing were both given\n",
  },
  {
    name: "--max-parallel 0",
    args: ["run", "ok.toml", "--work-stealing", "--max-parallel", "0"],
    stderr: 'Invalid --max-parallel "0": expected a whole number of at least 1\n',
  },
  {
    name: "--timeout 5 minutes",
    args: ["run", "ok.toml", "--timeout", "5 minutes"],
    stderr: 'Invalid --timeout "5 minutes": expected a duration above zero such as 90s, 10m or 1h30m\n',
  },
];

/** Exit 2, no stack frame, and nothing in the state directory. */
function assertRefused(rig: TestRig, r: RunResult): void {
  assert.equal(r.code, 2, `exit code; stderr:\n${r.stderr}`);
  assert.ok(!r.stderr.includes("    at "), `no stack trace:\n${r.stderr}`);
  assert.ok(!r.stderr.includes("Internal error"), r.stderr);
  assert.ok(!existsSync(rig.stateDir), "no state directory, so no run directory, was created");
}

describe("bad input", { concurrency: 4 }, () => {
  for (const bad of BAD_FILES) {
    test(`wf run and wf validate refuse ${bad.name} with exit 2 and the same diagnostic`, async () => {
      await using rig = await TestRig.create();
      await rig.write(bad.file, bad.source);

      const run = await rig.run(["run", bad.file]);
      assert.equal(run.stdout, "");
      assert.equal(run.stderr, `${bad.diagnostics}\nWorkflow "${bad.file}" is invalid: 1 error\n`);
      assertRefused(rig, run);

      const validate = await rig.run(["validate", bad.file]);
      assert.equal(validate.stdout, "");
      assert.equal(validate.stderr, `${bad.diagnostics}\nWorkflow "${bad.file}" is invalid: 1 error, 0 warnings\n`);
      assertRefused(rig, validate);

      const json = await rig.run(["validate", "--json", bad.file]);
      assert.equal(json.stderr, "");
      assert.deepEqual(JSON.parse(json.stdout), { valid: false, errors: bad.json, warnings: [] });
      assertRefused(rig, json);
    });
  }

  test("wf run refuses a variable nothing provides before anything starts, naming the --var to pass", async () => {
    await using rig = await TestRig.create();
    await rig.write("var.toml", `[tasks.deploy]\ncmd = "echo deploying to {{.TARGET}}"\n`);
    const run = await rig.run(["run", "var.toml"]);
    assert.equal(run.stdout, "");
    // The run-time check has no location: it is about what was passed, not where the file is wrong.
    assert.equal(run.stderr, 'Variable "TARGET" is needed by "deploy" but nothing provides it: pass --var TARGET=VALUE\n');
    assertRefused(rig, run);

    // validate cannot know what run will be given, so there it is a warning, exit 0.
    const validate = await rig.run(["validate", "var.toml"]);
    assert.equal(validate.code, 0);
    assert.equal(validate.stderr, [
      'var.toml:2:26: warning: Variable "TARGET" is not defined: pass --var TARGET=VALUE',
      '2 | cmd = "echo deploying to {{.TARGET}}"',
      "  |                          ^~~~~~~~~~~",
      "",
    ].join("\n"));
    assert.equal(validate.stdout, 'Workflow "var.toml" is valid: 1 task, 1 warning\n');

    const json = await rig.run(["validate", "--json", "var.toml"]);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout), {
      valid: true,
      errors: [],
      warnings: [{ file: "var.toml", line: 2, column: 26, message: 'Variable "TARGET" is not defined: pass --var TARGET=VALUE' }],
    });
    assert.ok(!existsSync(rig.stateDir));
  });

  test("wf validate reports every problem of a file at once", async () => {
    await using rig = await TestRig.create();
    await rig.write("many.toml", `[tasks.lint]\ncmd = "true"\ntimeot = "1m"\n\n[tasks.build]\ncmd = "true"\ndepends_on = ["lnt"]\nretries = -1\n`);
    const r = await rig.run(["validate", "--json", "many.toml"]);
    assertRefused(rig, r);
    assert.deepEqual(JSON.parse(r.stdout), {
      valid: false,
      errors: [
        { file: "many.toml", line: 3, column: 1, message: 'Unknown key "timeot" in task "lint" (did you mean "timeout"?)' },
        { file: "many.toml", line: 8, column: 11, message: 'Invalid retries -1 in task "build": expected a whole number, 0 or more' },
        { file: "many.toml", line: 7, column: 15, message: 'Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)' },
      ],
      warnings: [],
    });
  });

  for (const bad of BAD_USAGE) {
    test(`${bad.name} is refused in one sentence with exit 2`, async () => {
      await using rig = await TestRig.create();
      await rig.write("ok.toml", `[tasks.a]\ncmd = "touch ran.txt"\n`);
      const r = await rig.run(bad.args);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, bad.stderr);
      assertRefused(rig, r);
      assert.ok(!existsSync(rig.path("ran.txt")), "no task ran");
    });
  }
});
