/** Workflow -> Dag: matrix expansion, deterministic topological order, levels. */
import type { DependencyEntry, TaskDef, TaskId, Workflow } from "../workflow/types.ts";
import type { Dag, DagNode, NodeId } from "./dag.ts";

/** The node id of a task, or of one matrix cell: `publish[os=linux,arch=x64]` (keys in file order). */
export function nodeId(task: TaskId, matrix: Readonly<Record<string, string>> = {}): NodeId {
  const cells = Object.entries(matrix).map(([k, v]) => `${k}=${v}`);
  return (cells.length === 0 ? task : `${task}[${cells.join(",")}]`) as NodeId;
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
const inCell = (node: DagNode, cell: Readonly<Record<string, string>>) =>
  Object.entries(cell).every(([k, v]) => node.matrix[k] === v);

/**
 * Expands a validated workflow into its run graph. Forensic tasks stay outside the graph.
 * A dependency on a forensic or unknown task is ignored here (validation rejects it).
 */
export function buildDag(workflow: Workflow): Dag {
  const byTask = new Map<TaskId, DagNode[]>();
  const forensic = new Map<TaskId, TaskDef>();
  const list: { id: NodeId; task: TaskDef; matrix: Record<string, string> }[] = [];
  for (const task of workflow.tasks.values()) {
    if (task.type === "forensic") {
      forensic.set(task.id, task);
      continue;
    }
    for (const matrix of matrixCells(task)) list.push({ id: nodeId(task.id, matrix), task, matrix });
  }
  // Nodes without deps first, so deps can be resolved by task in one more pass.
  const bare = list.map((n) => ({ ...n, deps: [] as NodeId[] }));
  for (const n of bare) {
    const nodes = byTask.get(n.task.id) ?? [];
    nodes.push(n);
    byTask.set(n.task.id, nodes);
  }
  const nodes = new Map<NodeId, DagNode>();
  for (const n of bare) {
    const entries: readonly DependencyEntry[] = n.task.dependsOnEntries ?? n.task.dependsOn.map((task) => ({ task }));
    const deps = new Set<NodeId>();
    for (const entry of entries) {
      for (const dep of byTask.get(entry.task) ?? []) {
        if (entry.matrix === undefined || inCell(dep, entry.matrix)) deps.add(dep.id);
      }
    }
    nodes.set(n.id, { id: n.id, task: n.task, matrix: n.matrix, deps: [...deps] });
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
 * file order, so this is O(E + N log N) even when thousands are ready at once.
 */
function topoOrder(
  nodes: ReadonlyMap<NodeId, DagNode>,
  dependents: ReadonlyMap<NodeId, readonly NodeId[]>,
): { order: NodeId[]; levels: NodeId[][] } {
  const ids = [...nodes.keys()];
  const rank = new Map<NodeId, number>();
  ids.forEach((id, i) => rank.set(id, i));
  const waiting = new Map<NodeId, number>();
  const ready = new MinHeap();
  for (const n of nodes.values()) {
    waiting.set(n.id, n.deps.length);
    if (n.deps.length === 0) ready.push(rank.get(n.id)!);
  }
  const level = new Map<NodeId, number>();
  const order: NodeId[] = [];
  while (ready.size > 0) {
    const id = ids[ready.pop()]!;
    order.push(id);
    const node = nodes.get(id)!;
    level.set(id, node.deps.reduce((max, d) => Math.max(max, (level.get(d) ?? 0) + 1), 0));
    for (const next of dependents.get(id) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(rank.get(next)!);
    }
  }
  const levels: NodeId[][] = [];
  for (const id of order) {
    const l = level.get(id) ?? 0;
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
    const targets = groups.get(from) ?? new Map<NodeId, number[]>();
    targets.set(to, [...(targets.get(to) ?? []), i]);
    groups.set(from, targets);
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
 * edges, e.g. ["a", "b", "c"] for a -> b -> c -> a. Deterministic. Iterative, so a chain of
 * any length cannot overflow the stack.
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
