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
    const deps: NodeId[] = [];
    for (const entry of entries) {
      for (const dep of byTask.get(entry.task) ?? []) {
        if ((entry.matrix === undefined || inCell(dep, entry.matrix)) && !deps.includes(dep.id)) deps.push(dep.id);
      }
    }
    nodes.set(n.id, { id: n.id, task: n.task, matrix: n.matrix, deps });
  }

  const dependents = new Map<NodeId, NodeId[]>();
  for (const id of nodes.keys()) dependents.set(id, []);
  for (const n of nodes.values()) for (const d of n.deps) dependents.get(d)?.push(n.id);

  const { order, levels } = topoOrder(nodes, dependents);
  return { workflow, nodes, order, levels, dependents, forensic };
}

/**
 * Kahn's algorithm; among ready nodes the earliest in file (then matrix) order goes first.
 * Nodes on a cycle never become ready and are left out.
 */
function topoOrder(
  nodes: ReadonlyMap<NodeId, DagNode>,
  dependents: ReadonlyMap<NodeId, readonly NodeId[]>,
): { order: NodeId[]; levels: NodeId[][] } {
  const rank = new Map<NodeId, number>();
  for (const id of nodes.keys()) rank.set(id, rank.size);
  const waiting = new Map<NodeId, number>();
  const ready: NodeId[] = [];
  for (const n of nodes.values()) {
    waiting.set(n.id, n.deps.length);
    if (n.deps.length === 0) ready.push(n.id);
  }
  const level = new Map<NodeId, number>();
  const order: NodeId[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    const node = nodes.get(id)!;
    level.set(id, node.deps.reduce((max, d) => Math.max(max, (level.get(d) ?? 0) + 1), 0));
    for (const next of dependents.get(id) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) {
        const r = rank.get(next) ?? 0;
        let at = ready.findIndex((x) => (rank.get(x) ?? 0) > r);
        if (at < 0) at = ready.length;
        ready.splice(at, 0, next);
      }
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

/** The nodes of one task (all its matrix cells), in matrix order. */
export function nodesOfTask(dag: Dag, task: TaskId): NodeId[] {
  return [...dag.nodes.values()].filter((n) => n.task.id === task).map((n) => n.id);
}

/**
 * Cycles of a graph given by its edges, one per strongly connected component that has one,
 * each as the list of its nodes starting from the earliest (in `nodes` order) and following
 * edges, e.g. ["a", "b", "c"] for a -> b -> c -> a. Deterministic.
 */
export function findCycles<T>(nodes: readonly T[], edges: (node: T) => readonly T[]): T[][] {
  // Tarjan's strongly connected components.
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const components: T[][] = [];
  const known = new Set(nodes);
  const visit = (v: T): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!known.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
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
  };
  for (const v of nodes) if (!index.has(v)) visit(v);

  const position = new Map<T, number>();
  nodes.forEach((n, i) => position.set(n, i));
  const cycles: T[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const first = [...component].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))[0]!;
    if (component.length === 1 && !edges(first).includes(first)) continue;
    // Walk a simple path back to `first`, inside the component.
    const path: T[] = [];
    const seen = new Set<T>();
    const walk = (v: T): boolean => {
      path.push(v);
      seen.add(v);
      for (const w of edges(v)) {
        if (w === first) return true;
        if (members.has(w) && !seen.has(w) && walk(w)) return true;
      }
      path.pop();
      return false;
    };
    walk(first);
    cycles.push(path);
  }
  return cycles.sort((a, b) => (position.get(a[0]!) ?? 0) - (position.get(b[0]!) ?? 0));
}
