/** Workflow -> Dag: matrix expansion, deterministic topological order, levels. */
import { formatNodeId } from "../workflow/node-id.ts";
import type { DependencyEntry, TaskDef, TaskId, Workflow } from "../workflow/types.ts";
import type { Dag, DagNode, NodeId } from "./dag.ts";

/** The node id of a task, or of one matrix cell: `publish[os=linux,arch=x64]` (keys in file order; see workflow/node-id.ts). */
export function nodeId(task: TaskId, matrix: Readonly<Record<string, string>> = {}): NodeId {
  return formatNodeId(task, matrix) as NodeId;
}

/** The cells of a task's matrix: cartesian product, keys and values in file order. */
export function matrixCells(task: TaskDef): Record<string, string>[] {
  let cells: Record<string, string>[] = [{}];
  for (const [key, values] of task.matrix ?? []) {
    cells = cells.flatMap((cell) => values.map((v) => ({ ...cell, [key]: v })));
  }
  return cells;
}

/** Whether a node's matrix values include every key/value of `cell`. */
const inCell = (node: Pick<DagNode, "matrix">, cell: Readonly<Record<string, string>>) =>
  Object.entries(cell).every(([k, v]) => node.matrix[k] === v);

/** A node while the graph is built: its deps are filled in once every node exists. */
type Building = { id: NodeId; task: TaskDef; matrix: Readonly<Record<string, string>>; deps: NodeId[] };

/** The matrix values of every node of a task without a matrix: none, shared. */
const NO_MATRIX: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Expands a validated workflow into its run graph. Forensic tasks stay outside the graph.
 * A dependency on a forensic or unknown task is ignored here (validation rejects it).
 */
export function buildDag(workflow: Workflow): Dag {
  const nodes = new Map<NodeId, Building>();
  // The cells of each matrix task; a task without a matrix is its one node, found in `nodes`.
  const cellsOf = new Map<TaskId, Building[]>();
  const forensic = new Map<TaskId, TaskDef>();
  for (const task of workflow.tasks.values()) {
    if (task.type === "forensic") {
      forensic.set(task.id, task);
      continue;
    }
    if (task.matrix === undefined || task.matrix.length === 0) {
      nodes.set(task.id as string as NodeId, { id: task.id as string as NodeId, task, matrix: NO_MATRIX, deps: [] });
      continue;
    }
    const cells: Building[] = [];
    for (const matrix of matrixCells(task)) {
      const node: Building = { id: nodeId(task.id, matrix), task, matrix, deps: [] };
      cells.push(node);
      nodes.set(node.id, node);
    }
    cellsOf.set(task.id, cells);
  }
  const add = (deps: NodeId[], task: TaskId, cell?: Readonly<Record<string, string>>) => {
    const cells = cellsOf.get(task);
    if (cells === undefined) {
      const node = nodes.get(task as string as NodeId);
      if (node !== undefined && (cell === undefined || inCell(node, cell))) deps.push(node.id);
    } else {
      for (const dep of cells) if (cell === undefined || inCell(dep, cell)) deps.push(dep.id);
    }
  };
  for (const n of nodes.values()) {
    const deps = n.deps;
    if (n.task.dependsOnEntries === undefined) for (const task of n.task.dependsOn) add(deps, task);
    else for (const entry of n.task.dependsOnEntries) add(deps, entry.task, entry.matrix);
    // Two cells of a task may share an id (a matrix value written twice): each dependency once.
    if (deps.length > 1) n.deps = [...new Set(deps)];
  }

  const dependents = new Map<NodeId, NodeId[]>();
  for (const id of nodes.keys()) dependents.set(id, []);
  for (const n of nodes.values()) for (const d of n.deps) dependents.get(d)?.push(n.id);

  const { order, levels } = topoOrder(nodes, dependents);
  return { workflow, nodes, order, levels, dependents, forensic };
}

/**
 * Kahn's algorithm; among ready nodes the earliest in file (then matrix) order goes first.
 * Nodes on a cycle never become ready and are left out. The ready nodes wait in a heap by
 * file order, so this is O(E + N log N) even when thousands are ready at once. Nodes are
 * numbered by file order and counted in typed arrays: a map per count made this allocate
 * several entries per node.
 */
function topoOrder(
  nodes: ReadonlyMap<NodeId, DagNode>,
  dependents: ReadonlyMap<NodeId, readonly NodeId[]>,
): { order: NodeId[]; levels: NodeId[][] } {
  const all = [...nodes.values()];
  const rank = new Map<NodeId, number>();
  for (let i = 0; i < all.length; i++) rank.set(all[i]!.id, i);
  const waiting = new Int32Array(all.length);
  const level = new Int32Array(all.length);
  const ready = new MinHeap();
  for (let i = 0; i < all.length; i++) {
    waiting[i] = all[i]!.deps.length;
    if (waiting[i] === 0) ready.push(i);
  }
  const order: NodeId[] = [];
  const levels: NodeId[][] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    const node = all[i]!;
    order.push(node.id);
    let l = 0;
    for (const d of node.deps) l = Math.max(l, level[rank.get(d)!]! + 1);
    level[i] = l;
    for (const next of dependents.get(node.id) ?? []) {
      const j = rank.get(next)!;
      if (--waiting[j]! === 0) ready.push(j);
    }
  }
  for (const id of order) {
    const l = level[rank.get(id)!]!;
    while (levels.length <= l) levels.push([]);
    levels[l]!.push(id);
  }
  return { order, levels };
}

/** A binary min-heap of numbers. */
class MinHeap {
  readonly #items: number[] = [];
  get size(): number {
    return this.#items.length;
  }
  push(x: number): void {
    const a = this.#items;
    let i = a.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= x) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.#items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && a[r]! < a[l]! ? r : l;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** Every node reachable through dependents from the given nodes (the given nodes excluded). */
export function descendants(dag: Dag, from: Iterable<NodeId>): Set<NodeId> {
  const start = new Set(from);
  const seen = new Set<NodeId>();
  const stack = [...start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const next of dag.dependents.get(id) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  for (const id of start) seen.delete(id);
  return seen;
}

/** Every node from which the given node can be reached: its dependencies, transitively. */
export function ancestors(dag: Dag, of: NodeId): Set<NodeId> {
  const seen = new Set<NodeId>();
  const stack = [of];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const dep of dag.nodes.get(id)?.deps ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        stack.push(dep);
      }
    }
  }
  seen.delete(of);
  return seen;
}

/**
 * For each pair `[from, to]`, whether `to` can be reached from `from` through dependents
 * (`from` is an ancestor of `to`). Pairs are grouped by `from`, and each group is one walk
 * that stops when all its targets are found and never goes past the last of them in
 * topological order: the cost is one walk per distinct `from`, not one per pair.
 */
export function reachable(dag: Dag, pairs: readonly (readonly [from: NodeId, to: NodeId])[]): boolean[] {
  const result = pairs.map(() => false);
  if (pairs.length === 0) return result;
  const position = new Map<NodeId, number>();
  dag.order.forEach((id, i) => position.set(id, i));
  const groups = new Map<NodeId, Map<NodeId, number[]>>();
  pairs.forEach(([from, to], i) => {
    let targets = groups.get(from);
    if (targets === undefined) groups.set(from, (targets = new Map()));
    const hits = targets.get(to);
    if (hits === undefined) targets.set(to, [i]);
    else hits.push(i);
  });
  const seen = new Map<NodeId, NodeId>();
  for (const [from, targets] of groups) {
    let last = -1;
    for (const to of targets.keys()) last = Math.max(last, position.get(to) ?? -1);
    let left = targets.size;
    const stack = [from];
    seen.set(from, from);
    while (stack.length > 0 && left > 0) {
      const id = stack.pop()!;
      for (const next of dag.dependents.get(id) ?? []) {
        if (seen.get(next) === from || (position.get(next) ?? Infinity) > last) continue;
        seen.set(next, from);
        const hits = targets.get(next);
        if (hits !== undefined) {
          for (const i of hits) result[i] = true;
          left--;
        }
        stack.push(next);
      }
    }
  }
  return result;
}

/** The nodes of one task (all its matrix cells), in matrix order. */
export function nodesOfTask(dag: Dag, task: TaskId): NodeId[] {
  return [...dag.nodes.values()].filter((n) => n.task.id === task).map((n) => n.id);
}

/**
 * Cycles of a graph given by its edges, one per strongly connected component that has one,
 * each as the list of its nodes starting from the earliest (in `nodes` order) and following
 * edges, e.g. ["a", "b", "c"] for a -> b -> c -> a. Edges to nodes not in `nodes` are
 * ignored. Deterministic. Iterative, so a chain of any length cannot overflow the stack.
 */
export function findCycles<T>(nodes: readonly T[], edges: (node: T) => readonly T[]): T[][] {
  // Tarjan's strongly connected components, with an explicit stack of (node, next edge).
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const components: T[][] = [];
  const known = new Set(nodes);
  for (const root of nodes) {
    if (index.has(root)) continue;
    const frames: { v: T; out: readonly T[]; at: number }[] = [];
    const enter = (v: T) => {
      index.set(v, index.size);
      low.set(v, index.get(v)!);
      stack.push(v);
      onStack.add(v);
      frames.push({ v, out: edges(v), at: 0 });
    };
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const { v } = frame;
      if (frame.at < frame.out.length) {
        const w = frame.out[frame.at++]!;
        if (!known.has(w)) continue;
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent !== undefined) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(v)!));
      if (low.get(v) === index.get(v)) {
        const component: T[] = [];
        let w: T;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        components.push(component);
      }
    }
  }

  const position = new Map<T, number>();
  nodes.forEach((n, i) => position.set(n, i));
  const cycles: T[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const first = [...component].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))[0]!;
    if (component.length === 1 && !edges(first).includes(first)) continue;
    cycles.push(cyclePath(first, members, edges));
  }
  return cycles.sort((a, b) => (position.get(a[0]!) ?? 0) - (position.get(b[0]!) ?? 0));
}

/** A simple path from `first` back to it inside one strongly connected component (depth-first, iterative). */
function cyclePath<T>(first: T, members: ReadonlySet<T>, edges: (node: T) => readonly T[]): T[] {
  const seen = new Set<T>([first]);
  const frames: { v: T; out: readonly T[]; at: number }[] = [{ v: first, out: edges(first), at: 0 }];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.at >= frame.out.length) {
      frames.pop();
      continue;
    }
    const w = frame.out[frame.at++]!;
    if (w === first) return frames.map((f) => f.v);
    if (members.has(w) && !seen.has(w)) {
      seen.add(w);
      frames.push({ v: w, out: edges(w), at: 0 });
    }
  }
  return [first];
}
