/**
 * The run graph as text, Graphviz dot, Mermaid or JSON, optionally annotated
 * with one run's task states. Pure: the model comes from a validated workflow
 * or from a journal's run_started line.
 */
import { createColors } from "picocolors";
import type { Dag } from "../graph/dag.ts";
import type { EventOf } from "../journal/events.ts";
import type { TaskState } from "../journal/fold.ts";
import { jsonText } from "./inert.ts";

export interface GraphNode {
  readonly id: string;
  readonly deps: readonly string[];
}

export interface GraphModel {
  readonly name: string;
  /** Nodes in topological order. */
  readonly nodes: readonly GraphNode[];
  /** Forensic tasks and what they serve: task ids, or `*` for the workflow. */
  readonly forensic: readonly { readonly id: string; readonly for: readonly string[] }[];
}

/** Node id -> state, from a run; forensic tasks by task id. */
export type GraphStates = ReadonlyMap<string, TaskState | "running">;

export function graphFromDag(dag: Dag): GraphModel {
  const nodes = dag.order.map((id) => ({ id: String(id), deps: dag.nodes.get(id)!.deps.map(String) }));
  const forensic = [...dag.forensic.keys()].map((fid) => {
    const users: string[] = [];
    if (dag.workflow.onFailure === fid) users.push("*");
    for (const t of dag.workflow.tasks.values()) if (t.onFailure === fid) users.push(t.id);
    return { id: String(fid), for: users };
  });
  return { name: dag.workflow.name, nodes, forensic };
}

/** The graph as the run journaled it; forensic tasks only as far as they ran. */
export function graphFromRun(started: EventOf<"run_started">, forensicRan: readonly { task: string; target: string }[]): GraphModel {
  const forensic = new Map<string, string[]>();
  for (const f of forensicRan) {
    const list = forensic.get(f.task) ?? [];
    if (!list.includes(f.target)) list.push(f.target);
    forensic.set(f.task, list);
  }
  return {
    name: started.workflow,
    nodes: started.nodes.map((n) => ({ id: n.id, deps: n.deps })),
    forensic: [...forensic].map(([id, users]) => ({ id, for: users })),
  };
}

/** Level of each node: the longest path from a root, in edges. Nodes must be in topological order. */
export function levelsOf(nodes: readonly GraphNode[]): string[][] {
  const level = new Map<string, number>();
  const levels: string[][] = [];
  for (const n of nodes) {
    const l = Math.max(-1, ...n.deps.map((d) => level.get(d) ?? -1)) + 1;
    level.set(n.id, l);
    (levels[l] ??= []).push(n.id);
  }
  return levels;
}

const MARK: Record<string, string> = {
  succeeded: "✓", failed: "✗", cancelled: "✗", skipped: "→", running: "…", interrupted: "!", pending: "·",
};

export function renderText(g: GraphModel, states: GraphStates | undefined, color = false): string {
  const c = createColors(color);
  const paint = (state: string, text: string) =>
    state === "succeeded" ? c.green(text)
    : state === "failed" || state === "cancelled" ? c.red(text)
    : state === "running" || state === "interrupted" ? c.yellow(text)
    : c.dim(text);
  const levels = levelsOf(g.nodes);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const n = g.nodes.length;
  let text = `${g.name}: ${n} task${n === 1 ? "" : "s"} in ${levels.length} level${levels.length === 1 ? "" : "s"}\n`;
  levels.forEach((ids, i) => {
    text += `level ${i + 1}\n`;
    for (const id of ids) {
      const deps = byId.get(id)?.deps ?? [];
      const state = states?.get(id);
      const label = state === undefined ? id : paint(state, `${MARK[state] ?? "?"} ${id} (${state})`);
      text += `  ${label}${deps.length > 0 ? ` <- ${deps.join(", ")}` : ""}\n`;
    }
  });
  if (g.forensic.length > 0) {
    text += "forensic\n";
    for (const f of g.forensic) {
      const target = f.for.map((t) => (t === "*" ? "the workflow" : t)).join(", ");
      const state = states?.get(f.id);
      const label = state === undefined ? f.id : paint(state, `${MARK[state] ?? "?"} ${f.id} (${state})`);
      text += `  ${label}${target === "" ? "" : ` on failure of ${target}`}\n`;
    }
  }
  return text;
}

const FILL: Record<string, string> = {
  succeeded: "#c8e6c9", failed: "#ffcdd2", cancelled: "#ffe0b2", skipped: "#eeeeee",
  running: "#bbdefb", interrupted: "#fff9c4", pending: "#ffffff",
};

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

export function renderDot(g: GraphModel, states: GraphStates | undefined): string {
  let text = `digraph ${quote(g.name)} {\n  rankdir=LR;\n  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];\n`;
  const attrs = (id: string, extra = "") => {
    const state = states?.get(id);
    if (state === undefined) return extra === "" ? "" : ` [${extra}]`;
    const label = `label=${quote(`${id}\n${state}`)}, fillcolor=${quote(FILL[state] ?? "#ffffff")}`;
    return ` [${extra === "" ? "" : `${extra}, `}${label}]`;
  };
  for (const n of g.nodes) text += `  ${quote(n.id)}${attrs(n.id)};\n`;
  for (const f of g.forensic) text += `  ${quote(f.id)}${attrs(f.id, 'shape=note')};\n`;
  for (const n of g.nodes) for (const d of n.deps) text += `  ${quote(d)} -> ${quote(n.id)};\n`;
  for (const f of g.forensic) {
    for (const t of f.for) if (t !== "*") text += `  ${quote(t)} -> ${quote(f.id)} [style=dashed, label="on failure"];\n`;
  }
  return `${text}}\n`;
}

export function renderMermaid(g: GraphModel, states: GraphStates | undefined): string {
  const ids = new Map<string, string>();
  const key = (id: string) => {
    let k = ids.get(id);
    if (k === undefined) ids.set(id, (k = `n${ids.size}`));
    return k;
  };
  const label = (id: string) => {
    const state = states?.get(id);
    const text = state === undefined ? id : `${id}<br/>${state}`;
    return `"${text.replace(/"/g, "#quot;")}"`;
  };
  let text = "flowchart LR\n";
  for (const n of g.nodes) text += `  ${key(n.id)}[${label(n.id)}]\n`;
  for (const f of g.forensic) text += `  ${key(f.id)}[/${label(f.id)}/]\n`;
  for (const n of g.nodes) for (const d of n.deps) text += `  ${key(d)} --> ${key(n.id)}\n`;
  for (const f of g.forensic) for (const t of f.for) if (t !== "*") text += `  ${key(t)} -. on failure .-> ${key(f.id)}\n`;
  if (states !== undefined) {
    const used = new Set<string>();
    for (const [id, state] of states) {
      if (!ids.has(id)) continue;
      text += `  class ${key(id)} ${state}\n`;
      used.add(state);
    }
    for (const state of used) text += `  classDef ${state} fill:${FILL[state] ?? "#ffffff"}\n`;
  }
  return text;
}

export function renderJson(g: GraphModel, states: GraphStates | undefined): string {
  const levels = levelsOf(g.nodes);
  const levelOf = new Map<string, number>();
  levels.forEach((ids, i) => ids.forEach((id) => levelOf.set(id, i)));
  const doc = {
    workflow: g.name,
    nodes: g.nodes.map((n) => ({
      id: n.id, deps: n.deps, level: levelOf.get(n.id) ?? 0,
      ...(states === undefined ? {} : { state: states.get(n.id) ?? "pending" }),
    })),
    levels,
    forensic: g.forensic.map((f) => ({
      id: f.id, for: f.for,
      ...(states === undefined ? {} : { state: states.get(f.id) ?? null }),
    })),
  };
  return `${jsonText(doc, 2)}\n`;
}
