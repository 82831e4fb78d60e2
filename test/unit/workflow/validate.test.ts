import { test } from "node:test";
import { repoRoot } from "../../blackbox/rig.ts";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { decodeUtf8, validateWorkflow } from "../../../src/commands/load.ts";
import { MAX_NODES, MAX_NODES_PER_TASK } from "../../../src/workflow/validate.ts";

/** Each diagnostic as `line:col:length severity: message`, for exact comparisons. */
function problems(source: string, cliVars?: string[]): string[] {
  const r = validateWorkflow("t.toml", source, cliVars ? { cliVars: new Set(cliVars) } : {});
  return r.diagnostics.map((d) =>
    `${d.location?.line}:${d.location?.column}:${d.location?.length} ${d.severity}: ${d.message}`
  );
}

const lines = (...l: string[]) => l.join("\n") + "\n";

test("a valid file gives a workflow with defaults and a dag", () => {
  const r = validateWorkflow("dir/ci.toml", lines("[tasks.a]", 'cmd = "echo a"', "[tasks.b]", 'cmd = "echo b"', 'depends_on = ["a"]'));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.workflow?.name, "ci");
  const b = r.workflow?.tasks.get("b" as never);
  assert.equal(b?.type, "normal");
  assert.equal(b?.retries, 0);
  assert.equal(b?.retryDelayMs, 0);
  assert.equal(b?.timeoutMs, undefined);
  assert.deepEqual(b?.location, { file: "dir/ci.toml", line: 3, column: 1, length: 9 });
  assert.deepEqual(r.dag?.order, ["a", "b"]);
});

test("durations convert to milliseconds", () => {
  const r = validateWorkflow("t.toml", lines("[tasks.a]", 'cmd = "x"', 'retry_delay = "1.5s"', 'timeout = "1h30m"', "retries = 2"));
  const a = r.workflow?.tasks.get("a" as never);
  assert.equal(a?.retryDelayMs, 1500);
  assert.equal(a?.timeoutMs, 5_400_000);
  assert.equal(a?.retries, 2);
});

test("TOML syntax errors carry the parser's line and column", () => {
  assert.deepEqual(problems(lines("[tasks.a]", "cmd = ")), ["2:7:1 error: Invalid TOML: invalid value"]);
});

test("unknown keys are reported with a suggestion", () => {
  assert.deepEqual(problems(lines('nmae = "x"', "[tasks.build]", 'cmd = "x"', "retires = 2")), [
    '1:1:4 error: Unknown key "nmae" at the top level (did you mean "name"?)',
    '4:1:7 error: Unknown key "retires" in task "build" (did you mean "retries"?)',
  ]);
});

test("values of the wrong type are reported at the value", () => {
  assert.deepEqual(problems(lines("tags = \"ci\"", "[tasks.a]", "cmd = 1", 'ignore_failure = "yes"', 'depends_on = "b"')), [
    '1:8:4 error: Expected an array of strings for "tags", found a string',
    '3:7:1 error: Expected a string for "cmd" in task "a", found an integer',
    '4:18:5 error: Expected a boolean for "ignore_failure" in task "a", found a string',
    '5:14:3 error: Expected an array of strings for "depends_on" in task "a", found a string',
  ]);
});

test("a task without cmd is reported", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'name = "A"')), ['1:1:9 error: Missing key "cmd" in task "a": every task needs a command']);
});

test("task ids outside [A-Za-z0-9_-] are rejected", () => {
  assert.deepEqual(problems(lines('[tasks."a b"]', 'cmd = "x"')), ['1:1:13 error: Invalid task id "a b": use only letters, digits, "_" and "-"']);
});

test("an unknown task in depends_on points at the entry and suggests the closest id", () => {
  assert.deepEqual(
    problems(lines("[tasks.lint]", 'cmd = "x"', "[tasks.build]", 'cmd = "x"', 'depends_on = ["lint", "lnt"]')),
    ['5:23:5 error: Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)'],
  );
});

test("a cycle names every task on it", () => {
  const src = lines(
    "[tasks.a]", 'cmd = "x"', 'depends_on = ["c"]',
    "[tasks.b]", 'cmd = "x"', 'depends_on = ["a"]',
    "[tasks.c]", 'cmd = "x"', 'depends_on = ["b"]',
  );
  assert.deepEqual(problems(src), ['3:15:3 error: Cycle in depends_on: "a" -> "c" -> "b" -> "a"']);
});

test("a task depending on itself is a cycle", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'depends_on = ["a"]')), ['3:15:3 error: Cycle in depends_on: "a" -> "a"']);
});

test("on_failure must name an existing forensic task", () => {
  const src = lines(
    'on_failure = "alrt"',
    "[tasks.a]", 'cmd = "x"', 'on_failure = "b"',
    "[tasks.b]", 'cmd = "x"',
    "[tasks.alert]", 'type = "forensic"', 'cmd = "x"',
  );
  assert.deepEqual(problems(src), [
    '1:14:6 error: Unknown task "alrt" in on_failure of the workflow (did you mean "alert"?)',
    '4:14:3 error: Task "b" in on_failure of "a" is not forensic: add type = "forensic" to it',
  ]);
});

test("a normal task may not depend on a forensic one", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', 'depends_on = ["f"]', "[tasks.f]", 'type = "forensic"', 'cmd = "x"');
  assert.deepEqual(problems(src), ['3:15:3 error: Forensic task "f" used as a dependency of "a": forensic tasks run only on failure']);
});

test("an unknown task type is rejected", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'type = "cleanup"')), [
    '3:8:9 error: Invalid type "cleanup" in task "a": expected "normal" or "forensic"',
  ]);
});

test("two tasks may not register the same variable", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', 'register = "v"', "[tasks.b]", 'cmd = "x"', 'register = "v"');
  assert.deepEqual(problems(src), ['6:12:3 error: Variable "v" is registered by both "a" and "b"']);
});

test("cells of a matrix task must register different variables", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', 'register = "v"', 'matrix = { os = ["l", "d"] }');
  assert.deepEqual(problems(src), ['3:12:3 error: Variable "v" is registered by every cell of matrix task "a": put a matrix key in its name, like "v_{{.os}}"']);
});

test("bad durations are rejected", () => {
  for (const bad of ["5 minutes", "-1s", "", "5", "1d"]) {
    assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', `timeout = "${bad}"`)), [
      `3:11:${bad.length + 2} error: Invalid duration "${bad}" for "timeout" in task "a": use Go style like "500ms", "30s", "5m" or "1h30m"`,
    ]);
  }
});

test("negative or fractional retries are rejected", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', "retries = -1")), ['3:11:2 error: Invalid retries -1 in task "a": expected a whole number, 0 or more']);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', "retries = 1.5")), ['3:11:3 error: Invalid retries 1.5 in task "a": expected a whole number, 0 or more']);
});

test("an invalid if expression points into the expression", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', "if = 'v == '")), [
    '3:12:1 error: Invalid "if" in task "a": expected a value in condition, found end of condition',
  ]);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', "if = 'v = \"1\"'")), [
    '3:9:1 error: Invalid "if" in task "a": unknown operator "=" in condition (did you mean "=="?)',
  ]);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', "if = 'v matches \"(\"'")), [
    '3:17:3 error: Invalid "if" in task "a": invalid regular expression "(": /(/: Unterminated group',
  ]);
});

test("a reference only --var can satisfy is a warning, silenced by cliVars", () => {
  const src = lines("[tasks.a]", 'cmd = "deploy {{.target}}"');
  assert.deepEqual(problems(src), ['2:15:11 warning: Variable "target" is not defined: pass --var target=VALUE']);
  assert.deepEqual(problems(src, ["target"]), []);
  assert.ok(validateWorkflow("t.toml", src).dag, "warnings still give a dag");
});

test("references are checked in name, working_dir and env values too", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', 'name = "{{.n}}"', 'working_dir = "{{ .w }}"', 'env = { K = "{{.e}}" }');
  assert.deepEqual(problems(src), [
    '3:9:6 warning: Variable "n" is not defined: pass --var n=VALUE',
    '4:16:8 warning: Variable "w" is not defined: pass --var w=VALUE',
    '5:14:6 warning: Variable "e" is not defined: pass --var e=VALUE',
  ]);
});

test("vars, built-ins, matrix keys and ancestors' registers provide variables", () => {
  const src = lines(
    "[vars]", 'ENV = "staging"',
    "[tasks.v]", 'cmd = "x"', 'register = "version"',
    "[tasks.b]", 'cmd = "{{.ENV}} {{.version}} {{.run_id}} {{.workflow}} {{.task_id}} {{.attempt}} {{.os}}"',
    'depends_on = ["v"]', 'matrix = { os = ["linux"] }',
    "[tasks.f]", 'type = "forensic"', 'cmd = "{{.failed_task}} {{.error_message}} {{.failed_dag}} {{.version}}"',
  );
  assert.deepEqual(problems(src), []);
});

test("forensic-only variables are not available to normal tasks", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "{{.failed_task}}"')), [
    '2:8:16 warning: Variable "failed_task" is not defined: pass --var failed_task=VALUE',
  ]);
});

test("a variable registered by a task that is not an ancestor is a race", () => {
  const src = lines("[tasks.v]", 'cmd = "x"', 'register = "version"', "[tasks.b]", 'cmd = "echo {{.version}}"');
  assert.deepEqual(problems(src), [
    '5:13:12 error: Variable "version" is registered by "v", which "b" does not depend on: its value would be a race',
  ]);
});

test("a variable read in if from a non-ancestor is a race", () => {
  const src = lines("[tasks.v]", 'cmd = "x"', 'register = "version"', "[tasks.b]", 'cmd = "x"', "if = 'version != \"\"'");
  assert.deepEqual(problems(src), [
    '6:7:7 error: Variable "version" is registered by "v", which "b" does not depend on: its value would be a race',
  ]);
});

test("a task cannot use the variable it registers", () => {
  assert.deepEqual(problems(lines("[tasks.v]", 'cmd = "echo {{.v}}"', 'register = "v"')), [
    '2:13:6 error: Variable "v" is registered by "v" itself: it is not set before "v" runs',
  ]);
});

test("depends_on may name one cell of a matrix task", () => {
  const src = lines(
    "[tasks.d]", 'cmd = "x"', 'register = "sum_{{.db}}"', "[tasks.d.matrix]", 'db = ["pg", "my"]',
    "[tasks.u]", 'cmd = "{{.sum_pg}}"', 'depends_on = ["d[db=pg]"]',
    "[tasks.w]", 'cmd = "{{.sum_my}}"', 'depends_on = ["d[db=pg]"]',
  );
  assert.deepEqual(problems(src), [
    '10:8:11 error: Variable "sum_my" is registered by "d[db=my]", which "w" does not depend on: its value would be a race',
  ]);
  const ok = validateWorkflow("t.toml", src.replace('"{{.sum_my}}"', '"x"'));
  assert.deepEqual(ok.dag?.nodes.get("u" as never)?.deps, ["d[db=pg]"]);
});

test("an unknown matrix cell in depends_on is reported", () => {
  const src = lines("[tasks.d]", 'cmd = "x"', 'matrix = { db = ["pg"] }', "[tasks.u]", 'cmd = "x"', 'depends_on = ["d[db=pq]", "d[bd=pg]"]');
  assert.deepEqual(problems(src), [
    '6:15:10 error: Unknown matrix value "pq" for key "db" of task "d" in depends_on of "u" (did you mean "pg"?)',
    '6:27:10 error: Unknown matrix key "bd" of task "d" in depends_on of "u" (did you mean "db"?)',
  ]);
});

test("every problem is reported at once", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', 'timeout = "soon"', "retries = -2", 'depends_on = ["zz"]');
  assert.equal(problems(src).length, 3);
});

test("matrix values may be numbers and are stored as strings", () => {
  const r = validateWorkflow("t.toml", lines("[tasks.a]", 'cmd = "v{{.n}}"', "[tasks.a.matrix]", "n = [18, 20]"));
  assert.deepEqual(r.workflow?.tasks.get("a" as never)?.matrix, [["n", ["18", "20"]]]);
  assert.deepEqual(r.dag?.order, ["a[n=18]", "a[n=20]"]);
});

// One generated test per file of the Go wf's examples: they must validate unchanged.
// Known warnings: cost-modeling's alert-cost-variance reads {{.audit_id}}, which nothing provides.
const examples = resolve(repoRoot(), "fixtures", "wf-examples");
const expectedWarnings: Readonly<Record<string, readonly string[]>> = {
  "cost-modeling.toml": ['Variable "audit_id" is not defined: pass --var audit_id=VALUE'],
};
for (const file of readdirSync(examples).filter((f) => f.endsWith(".toml")).sort()) {
  test(`compat example ${file} validates without errors`, () => {
    const r = validateWorkflow(file, readFileSync(join(examples, file), "utf8"));
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
    assert.deepEqual(r.diagnostics.map((d) => d.message), expectedWarnings[file] ?? []);
    assert.ok(r.workflow && r.dag);
    assert.equal(r.dag.order.length, r.dag.nodes.size);
  });
}

test("a workflow without tasks is rejected", () => {
  assert.deepEqual(problems(lines('name = "x"')), ["1:1:1 error: Workflow has no tasks: add a [tasks.<id>] table"]);
  assert.deepEqual(problems(lines("[tasks]")), ["1:1:7 error: Workflow has no tasks: add a [tasks.<id>] table"]);
});

test("depends_on of a forensic task is ignored with a warning", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', "[tasks.f]", 'type = "forensic"', 'cmd = "x"', 'depends_on = ["a"]');
  assert.deepEqual(problems(src), ['6:15:3 warning: Ignoring depends_on of forensic task "f": forensic tasks run only on failure']);
});

test("a register name may vary only by matrix keys", () => {
  const src = lines("[tasks.a]", 'cmd = "x"', 'register = "v_{{.os}}_{{.zz}}"', 'matrix = { os = ["l"] }');
  assert.deepEqual(problems(src), ['3:23:7 error: Variable "zz" in register of "a" is not a matrix key of it: only matrix keys can vary a register name']);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'register = "my-var"')), [
    '3:12:8 error: Invalid variable name "my-var" in register of "a": use letters, digits and "_", not starting with a digit',
  ]);
});

test("tasks may be written as inline tables under [tasks]", () => {
  assert.deepEqual(problems(lines("[tasks]", 'a = { cmd = "x", retires = 1 }')), [
    '2:18:7 error: Unknown key "retires" in task "a" (did you mean "retries"?)',
  ]);
});

test("a matrix is capped per task before it is expanded", () => {
  const ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
  const src = lines("[tasks.a]", 'cmd = "x"', "[tasks.a.matrix]", ...["a", "b", "c", "d", "e", "f"].map((k) => `${k} = ${ten}`));
  assert.deepEqual(problems(src), [
    `3:1:16 error: Cannot expand the matrix of task "a": it makes 1000000 nodes, more than the ${MAX_NODES_PER_TASK} allowed per task`,
  ]);
  const ok = lines("[tasks.a]", 'cmd = "x"', "[tasks.a.matrix]", ...["a", "b", "c", "d"].map((k) => `${k} = ${ten}`));
  assert.equal(validateWorkflow("t.toml", ok).dag?.nodes.size, MAX_NODES_PER_TASK);
});

test("the nodes of all tasks together are capped per workflow", () => {
  const hundred = `[${Array.from({ length: 100 }, (_, i) => i).join(",")}]`;
  const tasks = Array.from({ length: MAX_NODES / 10_000 + 1 }, (_, i) => [`[tasks.m${i}]`, 'cmd = "x"', `matrix = { a = ${hundred}, b = ${hundred} }`]).flat();
  assert.deepEqual(problems(lines(...tasks)), [
    `33:1:6 error: Cannot expand task "m10": the workflow would have more than the ${MAX_NODES} nodes allowed per workflow`,
  ]);
});

test("[[tasks]] and arrays where tables belong are refused with one message each", () => {
  assert.deepEqual(problems(lines("[[tasks]]", 'cmd = "x"')), [
    '1:1:9 error: Expected a table for "tasks", found an array: write [tasks.<id>], not [[tasks]]',
  ]);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'env = ["A=1"]', 'matrix = [["a"]]')), [
    '3:7:7 error: Expected a table of strings for "env" in task "a", found an array',
    '4:10:7 error: Expected a table of arrays of strings or numbers for "matrix" in task "a", found an array',
  ]);
  assert.deepEqual(problems(lines("vars = [1]", "[tasks.a]", 'cmd = "x"')), [
    '1:8:3 error: Expected a table of strings for "vars", found an array',
  ]);
});

test("a duration longer than Go can hold is located", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'retry_delay = "3000000h"')), [
    '3:15:10 error: Invalid duration "3000000h" for "retry_delay" in task "a": the longest allowed is 2562047h (about 292 years)',
  ]);
});

test("decodeUtf8 gives the offset of the first invalid byte", () => {
  const enc = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...new TextEncoder().encode(p)] : p)));
  assert.equal(decodeUtf8(enc("a = \"é€😀\"")), "a = \"é€😀\"");
  assert.equal(decodeUtf8(enc("ab", [0xff], "c")), 2);
  assert.equal(decodeUtf8(enc("ab", [0xc3])), 2, "cut short");
  assert.equal(decodeUtf8(enc("x", [0xc0, 0xaf])), 1, "overlong");
  assert.equal(decodeUtf8(enc("x", [0xed, 0xa0, 0x80])), 1, "surrogate");
  assert.equal(decodeUtf8(enc("é", [0xf4, 0x90, 0x80, 0x80])), 2, "above U+10FFFF");
});

test("a cycle through one cell of a matrix task is found once the graph is built", () => {
  const src = lines(
    "[tasks.a]", 'cmd = "x"', 'matrix = { os = ["linux", "mac"] }', 'depends_on = ["b"]',
    "[tasks.b]", 'cmd = "x"', 'depends_on = ["a[os=mac]"]',
    "[tasks.c]", 'cmd = "x"', 'depends_on = ["a"]',
  );
  assert.deepEqual(problems(src), ['4:15:3 error: Cycle in depends_on: "a" -> "b" -> "a"']);
});

test("typed keys: NaN is not a number, an array is not a table, values are checked at every depth", () => {
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', "env = { X = nan }")), [
    '3:7:11 error: Expected a table of strings for "env" in task "a", found a table',
  ]);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'env = ["X=1"]')), [
    '3:7:7 error: Expected a table of strings for "env" in task "a", found an array',
  ]);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'matrix = { n = [1, "2", true] }')), [
    '3:10:22 error: Expected a table of arrays of strings or numbers for "matrix" in task "a", found a table',
  ]);
  assert.deepEqual(problems(lines("[tasks.a]", 'cmd = "x"', 'depends_on = ["b", 1]', "[tasks.b]", 'cmd = "x"')), [
    '3:14:8 error: Expected an array of strings for "depends_on" in task "a", found an array',
  ]);
});

test("a task's fields serialise in a fixed order, without its location (definition hashes depend on it)", () => {
  const r = validateWorkflow("t.toml", lines(
    "[tasks.a]", 'cmd = "x"', 'matrix = { os = ["linux"] }', 'register = "v_{{.os}}"',
    "[tasks.b]", 'on_failure = "f"', 'timeout = "1s"', 'if = "v_linux == \'1\'"', 'working_dir = "w"', 'description = "d"',
    'name = "n"', 'depends_on = ["a[os=linux]"]', 'env = { K = 1 }', 'cmd = "y"', "retries = 1",
    "[tasks.f]", 'type = "forensic"', 'cmd = "z"',
  ));
  assert.deepEqual(r.diagnostics, []);
  const { location, ...b } = r.workflow!.tasks.get("b" as never)!;
  assert.deepEqual(location, { file: "t.toml", line: 5, column: 1, length: 9 });
  assert.equal(
    JSON.stringify(b),
    '{"id":"b","type":"normal","cmd":"y","dependsOn":["a"],"env":{"K":"1"},"cleanEnv":false,"ignoreFailure":false,' +
      '"retries":1,"retryDelayMs":0,"dependsOnEntries":[{"task":"a","matrix":{"os":"linux"}}],"name":"n",' +
      '"description":"d","workingDir":"w","if":"v_linux == \'1\'","timeoutMs":1000,"onFailure":"f"}',
  );
});
