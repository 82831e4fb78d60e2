import { test } from "node:test";
import assert from "node:assert/strict";
import { ancestors, buildDag, descendants, findCycles, matrixCells, nodeId, nodesOfTask, reachable } from "../../../src/graph/build.ts";
import type { NodeId } from "../../../src/graph/dag.ts";
import type { DependencyEntry, TaskDef, TaskId, Workflow } from "../../../src/workflow/types.ts";

type Spec = { deps?: string[]; matrix?: [string, string[]][]; forensic?: boolean; entries?: DependencyEntry[] };

function workflow(tasks: Record<string, Spec>): Workflow {
  const map = new Map<TaskId, TaskDef>();
  for (const [id, s] of Object.entries(tasks)) {
    map.set(id as TaskId, {
      id: id as TaskId,
      type: s.forensic ? "forensic" : "normal",
      cmd: "true",
      dependsOn: (s.deps ?? []) as TaskId[],
      env: {},
      cleanEnv: false,
      ignoreFailure: false,
      resumable: true,
      retries: 0,
      retryDelayMs: 0,
      location: { file: "t.toml", line: 1, column: 1 },
      ...(s.matrix ? { matrix: s.matrix } : {}),
      ...(s.entries ? { dependsOnEntries: s.entries } : {}),
    });
  }
  return { name: "t", tags: [], vars: {}, tasks: map, file: "t.toml", source: "" };
}
const ids = (xs: Iterable<string>) => [...xs].map(String);

test("nodeId names matrix cells with keys in file order", () => {
  assert.equal(nodeId("a" as TaskId), "a");
  assert.equal(nodeId("a" as TaskId, { os: "linux", arch: "x64" }), "a[os=linux,arch=x64]");
});

test("matrix expansion is the cartesian product in file order", () => {
  const w = workflow({ p: { matrix: [["os", ["linux", "darwin"]], ["node", ["18", "20"]]] } });
  assert.deepEqual(matrixCells(w.tasks.get("p" as TaskId)!), [
    { os: "linux", node: "18" }, { os: "linux", node: "20" }, { os: "darwin", node: "18" }, { os: "darwin", node: "20" },
  ]);
  const dag = buildDag(w);
  assert.deepEqual(ids(dag.order), ["p[os=linux,node=18]", "p[os=linux,node=20]", "p[os=darwin,node=18]", "p[os=darwin,node=20]"]);
  assert.deepEqual(dag.nodes.get("p[os=darwin,node=20]" as NodeId)?.matrix, { os: "darwin", node: "20" });
});

test("depending on a matrix task means all its nodes; on a cell, only that one", () => {
  const dag = buildDag(workflow({
    b: { matrix: [["db", ["pg", "my"]]] },
    all: { deps: ["b"] },
    one: { deps: ["b"], entries: [{ task: "b" as TaskId, matrix: { db: "my" } }] },
  }));
  assert.deepEqual(dag.nodes.get("all" as NodeId)?.deps, ["b[db=pg]", "b[db=my]"]);
  assert.deepEqual(dag.nodes.get("one" as NodeId)?.deps, ["b[db=my]"]);
  assert.deepEqual(ids(dag.dependents.get("b[db=pg]" as NodeId) ?? []), ["all"]);
  assert.deepEqual(nodesOfTask(dag, "b" as TaskId), ["b[db=pg]", "b[db=my]"]);
});

test("topological order is deterministic: file order among ready nodes", () => {
  const dag = buildDag(workflow({
    d: { deps: ["b", "c"] },
    c: {},
    b: { deps: ["a"] },
    a: {},
    e: { deps: ["a"] },
  }));
  assert.deepEqual(ids(dag.order), ["c", "a", "b", "d", "e"]);
});

test("levels are the longest path from a root", () => {
  const dag = buildDag(workflow({ a: {}, b: { deps: ["a"] }, c: { deps: ["b"] }, d: { deps: ["a", "c"] }, e: {} }));
  assert.deepEqual(dag.levels.map(ids), [["a", "e"], ["b"], ["c"], ["d"]]);
});

test("forensic tasks stay outside the graph", () => {
  const dag = buildDag(workflow({ a: {}, f: { forensic: true } }));
  assert.deepEqual(ids(dag.order), ["a"]);
  assert.deepEqual(ids(dag.forensic.keys()), ["f"]);
});

test("descendants and ancestors follow the edges transitively", () => {
  const dag = buildDag(workflow({ a: {}, b: { deps: ["a"] }, c: { deps: ["b"] }, x: {}, y: { deps: ["x", "b"] } }));
  assert.deepEqual(ids(descendants(dag, ["b" as NodeId])).sort(), ["c", "y"]);
  assert.deepEqual(ids(descendants(dag, ["a" as NodeId, "b" as NodeId])).sort(), ["c", "y"]);
  assert.deepEqual(ids(ancestors(dag, "y" as NodeId)).sort(), ["a", "b", "x"]);
});

test("findCycles returns each cycle once, from its earliest node", () => {
  const edges: Record<string, string[]> = { a: ["b"], b: ["c"], c: ["a"], d: ["d"], e: ["a"], f: [] };
  assert.deepEqual(findCycles(Object.keys(edges), (n) => edges[n] ?? []), [["a", "b", "c"], ["d"]]);
  assert.deepEqual(findCycles(["x", "y"], (n) => (n === "x" ? ["y"] : [])), []);
});

test("a graph with a cycle leaves those nodes out of the order", () => {
  const dag = buildDag(workflow({ a: { deps: ["b"] }, b: { deps: ["a"] }, c: {} }));
  assert.deepEqual(ids(dag.order), ["c"]);
});

test("findCycles and buildDag handle a 50,000-task chain without deep recursion", () => {
  const spec: Record<string, Spec> = {};
  for (let i = 0; i < 50_000; i++) spec[`t${i}`] = i === 0 ? {} : { deps: [`t${i - 1}`] };
  const dag = buildDag(workflow(spec));
  assert.equal(dag.order.length, 50_000);
  assert.equal(dag.levels.length, 50_000);
  const ids = Object.keys(spec);
  assert.deepEqual(findCycles(ids, (id) => spec[id]?.deps ?? []), []);
  spec["t0"] = { deps: ["t49999"] };
  const cycles = findCycles(ids, (id) => spec[id]?.deps ?? []);
  assert.equal(cycles.length, 1);
  assert.equal(cycles[0]?.length, 50_000);
  assert.deepEqual(cycles[0]?.slice(0, 3), ["t0", "t49999", "t49998"]);
});

test("reachable answers ancestry for many pairs at once", () => {
  const dag = buildDag(workflow({ a: {}, b: { deps: ["a"] }, c: { deps: ["b"] }, d: {} }));
  const n = (s: string) => s as NodeId;
  assert.deepEqual(reachable(dag, [[n("a"), n("c")], [n("c"), n("a")], [n("a"), n("b")], [n("d"), n("c")], [n("a"), n("a")]]), [true, false, true, false, false]);
});
