/**
 * Where the report draws each node of a run's graph, left to right in
 * dependency order. Up to LIBRARY_MAX_NODES nodes dagre lays it out (fewer
 * crossings, routed edges); above, dagre takes too long on wide graphs (20 s
 * for 2,000 nodes with 4,000 edges) and overflows the stack on long chains,
 * so a plain layered layout is used: a node's column is its longest path from
 * a root, a tall column is folded into several, and edges are straight.
 */
import dagre from "@dagrejs/dagre";

export interface LayoutNode {
  readonly id: string;
  /** Centre, width and height. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LayoutEdge {
  readonly from: string;
  readonly to: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface GraphLayout {
  readonly nodes: readonly LayoutNode[];
  readonly edges: readonly LayoutEdge[];
  readonly width: number;
  readonly height: number;
  readonly by: "dagre" | "layers";
}

export interface LayoutInput {
  readonly nodes: readonly { readonly id: string; readonly width: number }[];
  /** `[from, to]`: `to` depends on `from`. */
  readonly edges: readonly (readonly [string, string])[];
}

export const NODE_HEIGHT = 24;
const NODE_GAP = 10;
const RANK_GAP = 48;
const MARGIN = 12;
export const LIBRARY_MAX_NODES = 500;
export const LIBRARY_MAX_EDGES = 1500;
/** Nodes in one column of the plain layout before it folds into the next. */
const COLUMN_MAX = 40;

export function layoutGraph(input: LayoutInput): GraphLayout {
  if (input.nodes.length <= LIBRARY_MAX_NODES && input.edges.length <= LIBRARY_MAX_EDGES) {
    const laid = dagreLayout(input);
    if (laid !== undefined) return laid;
  }
  return layeredLayout(input);
}

function dagreLayout(input: LayoutInput): GraphLayout | undefined {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: NODE_GAP, ranksep: RANK_GAP, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of input.nodes) g.setNode(n.id, { width: n.width, height: NODE_HEIGHT });
  const known = new Set(input.nodes.map((n) => n.id));
  for (const [from, to] of input.edges) if (known.has(from) && known.has(to)) g.setEdge(from, to);
  try {
    dagre.layout(g);
  } catch (e) {
    // A graph deep enough to overflow dagre's recursion: the plain layout has none.
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  const graph = g.graph();
  return {
    nodes: input.nodes.map((n) => {
      const laid = g.node(n.id) as { x: number; y: number };
      return { id: n.id, x: laid.x, y: laid.y, width: n.width, height: NODE_HEIGHT };
    }),
    edges: g.edges().map((e: { v: string; w: string }) => ({ from: e.v, to: e.w, points: (g.edge(e) as { points?: { x: number; y: number }[] }).points ?? [] })),
    width: graph.width ?? 0,
    height: graph.height ?? 0,
    by: "dagre",
  };
}

/** Longest path from a root, for every node (in topological order, so no recursion); an edge with an unknown end is ignored. */
function ranks(input: LayoutInput): Map<string, number> {
  const indegree = new Map<string, number>(input.nodes.map((n) => [n.id, 0]));
  const dependents = new Map<string, string[]>();
  for (const [from, to] of input.edges) {
    if (!indegree.has(from) || !indegree.has(to)) continue;
    (dependents.get(from) ?? dependents.set(from, []).get(from)!).push(to);
    indegree.set(to, indegree.get(to)! + 1);
  }
  const rank = new Map<string, number>();
  const queue = input.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  for (const id of queue) rank.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const d of dependents.get(id) ?? []) {
      rank.set(d, Math.max(rank.get(d) ?? 0, rank.get(id)! + 1));
      const left = indegree.get(d)! - 1;
      indegree.set(d, left);
      if (left === 0) queue.push(d);
    }
  }
  return rank;
}

function layeredLayout(input: LayoutInput): GraphLayout {
  const rank = ranks(input);
  const width = new Map(input.nodes.map((n) => [n.id, n.width]));
  const layers: string[][] = [];
  for (const n of input.nodes) (layers[rank.get(n.id) ?? 0] ??= []).push(n.id);
  // One pass of the barycenter heuristic: a node sits near the mean place of its dependencies.
  const place = new Map<string, number>();
  const deps = new Map<string, string[]>();
  for (const [from, to] of input.edges) (deps.get(to) ?? deps.set(to, []).get(to)!).push(from);
  for (const layer of layers) {
    if (layer === undefined) continue;
    const key = (id: string, i: number) => {
      const ds = (deps.get(id) ?? []).filter((d) => place.has(d));
      return ds.length === 0 ? i : ds.reduce((s, d) => s + place.get(d)!, 0) / ds.length;
    };
    const keyed = layer.map((id, i) => ({ id, k: key(id, i) })).sort((a, b) => a.k - b.k);
    keyed.forEach((e, i) => {
      layer[i] = e.id;
      place.set(e.id, i);
    });
  }
  const nodes: LayoutNode[] = [];
  const at = new Map<string, LayoutNode>();
  let x = MARGIN;
  let height = 0;
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (let c = 0; c < layer.length; c += COLUMN_MAX) {
      const column = layer.slice(c, c + COLUMN_MAX);
      const w = Math.max(...column.map((id) => width.get(id) ?? 0));
      column.forEach((id, i) => {
        const node = { id, x: x + w / 2, y: MARGIN + i * (NODE_HEIGHT + NODE_GAP) + NODE_HEIGHT / 2, width: width.get(id) ?? w, height: NODE_HEIGHT };
        nodes.push(node);
        at.set(id, node);
        height = Math.max(height, node.y + NODE_HEIGHT / 2 + MARGIN);
      });
      x += w + (c + COLUMN_MAX < layer.length ? NODE_GAP * 2 : RANK_GAP);
    }
  }
  const edges: LayoutEdge[] = [];
  for (const [from, to] of input.edges) {
    const a = at.get(from);
    const b = at.get(to);
    if (a === undefined || b === undefined) continue;
    edges.push({ from, to, points: [{ x: a.x + a.width / 2, y: a.y }, { x: b.x - b.width / 2, y: b.y }] });
  }
  // Nodes keep the input's order, whatever the layers made of it.
  const order = new Map(input.nodes.map((n, i) => [n.id, i]));
  nodes.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { nodes, edges, width: x - RANK_GAP + MARGIN, height, by: "layers" };
}
