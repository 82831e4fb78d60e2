import { test } from "node:test";
import assert from "node:assert/strict";
import { missingVariables, registeredName, varsProvidedFor } from "../../../src/graph/variables.ts";
import { validateWorkflow } from "../../../src/commands/load.ts";
import type { NodeId } from "../../../src/graph/dag.ts";

const lines = (...l: string[]) => l.join("\n") + "\n";
const SRC = lines(
  "[vars]", 'ENV = "prod"',
  "[tasks.v]", 'cmd = "x"', 'register = "ver_{{.os}}"', 'matrix = { os = ["l", "d"] }',
  "[tasks.a]", 'cmd = "{{.ver_l}} {{.target}} {{.ENV}}"', 'depends_on = ["v"]',
  "[tasks.b]", 'cmd = "{{.target}} {{.token}}"', "ignore_failure = true",
  "[tasks.f]", 'type = "forensic"', 'cmd = "{{.failed_task}} {{.token}}"',
);

test("missingVariables names the variables nothing provides, with the tasks that need them", () => {
  const { dag } = validateWorkflow("t.toml", SRC);
  assert.ok(dag);
  assert.deepEqual(missingVariables(dag, new Set()), [
    { name: "target", tasks: ["a", "b"], allIgnoreFailure: false },
    { name: "token", tasks: ["b", "f"], allIgnoreFailure: false },
  ]);
  assert.deepEqual(missingVariables(dag, new Set(["target"])), [{ name: "token", tasks: ["b", "f"], allIgnoreFailure: false }]);
});

test("missingVariables flags a variable needed only by ignore_failure tasks", () => {
  const { dag } = validateWorkflow("t.toml", lines("[tasks.a]", 'cmd = "{{.id}}"', "ignore_failure = true"));
  assert.ok(dag);
  assert.deepEqual(missingVariables(dag, new Set()), [{ name: "id", tasks: ["a"], allIgnoreFailure: true }]);
});

test("register names are rendered with the node's matrix values", () => {
  const { dag } = validateWorkflow("t.toml", SRC);
  assert.ok(dag);
  assert.equal(registeredName(dag.nodes.get("v[os=d]" as NodeId)!), "ver_d");
  const a = dag.nodes.get("a" as NodeId)!;
  assert.deepEqual([...varsProvidedFor(dag, a)].sort(), ["ENV", "attempt", "run_id", "task_id", "ver_d", "ver_l", "workflow"]);
});
