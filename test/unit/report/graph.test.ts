import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { levelsOf, renderDot, renderJson, renderMermaid, renderText, type GraphModel } from "../../../src/report/graph.ts";

const G: GraphModel = {
  name: "ci",
  nodes: [
    { id: "lint", deps: [] },
    { id: "version", deps: [] },
    { id: "test", deps: ["lint", "version"] },
    { id: "build", deps: ["test"] },
  ],
  forensic: [{ id: "alert", for: ["*"] }, { id: "collect", for: ["test"] }],
};
const STATES = new Map([["lint", "succeeded"], ["version", "succeeded"], ["test", "failed"], ["build", "cancelled"], ["collect", "succeeded"]] as const);

describe("graph rendering", () => {
  test("levelsOf() puts each node one level below its deepest dependency", () => {
    assert.deepEqual(levelsOf([...G.nodes, { id: "docs", deps: ["lint"] }]), [["lint", "version"], ["test", "docs"], ["build"]]);
  });

  test("text: levels with dependencies, then forensic tasks", () => {
    assert.equal(renderText(G, undefined), [
      "ci: 4 tasks in 3 levels", "level 1", "  lint", "  version", "level 2", "  test <- lint, version",
      "level 3", "  build <- test", "forensic", "  alert on failure of the workflow", "  collect on failure of test", "",
    ].join("\n"));
  });

  test("text with a run: each node marked with its state", () => {
    const text = renderText(G, new Map(STATES));
    assert.match(text, /^ {2}✗ test \(failed\) <- lint, version$/m);
    assert.match(text, /^ {2}✓ collect \(succeeded\) on failure of test$/m);
    assert.match(text, /^ {2}alert on failure of the workflow$/m);
  });

  test("dot: nodes, edges, dashed forensic edges, fill colours for states", () => {
    assert.equal(renderDot({ name: "a\"b", nodes: [{ id: "x", deps: [] }, { id: "y", deps: ["x"] }], forensic: [] }, undefined),
      'digraph "a\\"b" {\n  rankdir=LR;\n  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];\n  "x";\n  "y";\n  "x" -> "y";\n}\n');
    const dot = renderDot(G, new Map(STATES));
    assert.match(dot, /"test" \[label="test\\nfailed", fillcolor="#ffcdd2"\];/);
    assert.match(dot, /"collect" \[shape=note, label="collect\\nsucceeded", fillcolor="#c8e6c9"\];/);
    assert.match(dot, /"test" -> "collect" \[style=dashed, label="on failure"\];/);
  });

  test("mermaid: a flowchart with one class per state", () => {
    const m = renderMermaid(G, new Map(STATES));
    assert.ok(m.startsWith('flowchart LR\n  n0["lint<br/>succeeded"]\n'), m);
    assert.match(m, /^ {2}n0 --> n2$/m);
    assert.match(m, /^ {2}n2 -\. on failure \.-> n5$/m);
    assert.match(m, /^ {2}class n2 failed$/m);
    assert.match(m, /^ {2}classDef failed fill:#ffcdd2$/m);
    assert.doesNotMatch(renderMermaid(G, undefined), /class/);
  });

  test("json: nodes with level and state, levels, forensic", () => {
    const doc = JSON.parse(renderJson(G, new Map(STATES)));
    assert.deepEqual(doc.nodes[2], { id: "test", deps: ["lint", "version"], level: 1, state: "failed" });
    assert.deepEqual(doc.levels, [["lint", "version"], ["test"], ["build"]]);
    assert.deepEqual(doc.forensic, [{ id: "alert", for: ["*"], state: null }, { id: "collect", for: ["test"], state: "succeeded" }]);
    assert.equal(JSON.parse(renderJson(G, undefined)).nodes[0].state, undefined);
  });
});
