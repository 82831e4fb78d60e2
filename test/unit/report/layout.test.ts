import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LIBRARY_MAX_NODES, layoutGraph } from "../../../src/report/html/layout.ts";

const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, width: 60 }));

/** Every edge goes left to right: a task is drawn after what it depends on. */
function leftToRight(l: ReturnType<typeof layoutGraph>): void {
  const at = new Map(l.nodes.map((n) => [n.id, n]));
  for (const e of l.edges) assert.ok(at.get(e.from)!.x < at.get(e.to)!.x, `${e.from} -> ${e.to}`);
}

describe("layoutGraph()", () => {
  test("a small graph is laid out by dagre, left to right, inside its size", () => {
    const l = layoutGraph({ nodes: nodes(4), edges: [["t0", "t1"], ["t0", "t2"], ["t1", "t3"], ["t2", "t3"]] });
    assert.equal(l.by, "dagre");
    leftToRight(l);
    for (const n of l.nodes) assert.ok(n.x - n.width / 2 >= 0 && n.x + n.width / 2 <= l.width && n.y + n.height / 2 <= l.height, n.id);
    assert.deepEqual(l.nodes.map((n) => n.id), ["t0", "t1", "t2", "t3"]);
  });

  test("a large graph gets the plain layers: a column per longest path, tall ones folded, no recursion on a long chain", () => {
    const n = LIBRARY_MAX_NODES + 1500;
    const chain = layoutGraph({ nodes: nodes(n), edges: nodes(n).slice(1).map((x, i) => [`t${i}`, x.id] as [string, string]) });
    assert.equal(chain.by, "layers");
    leftToRight(chain);
    const flat = layoutGraph({ nodes: nodes(n), edges: [] });
    assert.equal(flat.by, "layers");
    // 2,000 independent tasks fold into columns of 40 rather than one column 2,000 tall.
    assert.equal(new Set(flat.nodes.map((x) => x.x)).size, Math.ceil(n / 40));
    assert.ok(flat.height < 40 * 40);
    const layered = layoutGraph({ nodes: nodes(n), edges: nodes(n).slice(50).map((x, i) => [`t${i}`, x.id] as [string, string]) });
    leftToRight(layered);
    assert.equal(layered.nodes.length, n);
  });
});
