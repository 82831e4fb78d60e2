/**
 * Which variables a node can see: the one answer that validation, `wf run`'s and `wf resume`'s
 * missing-variable checks and the engine share.
 *
 * A node sees `[vars]`, the built-ins, its own matrix keys (a forensic task also the forensic
 * built-ins and every registered variable, as it runs after a failure at any point) and what
 * its ancestors register. A name registered by a node that is not an ancestor is a race; a name
 * nothing in the workflow provides needs `--var`.
 */
import type { Dag, DagNode, NodeId } from "./dag.ts";
import { ancestors, reachable } from "./build.ts";
import { renderTemplate, templateRefs } from "../workflow/template.ts";
import type { TaskDef, TaskId } from "../workflow/types.ts";

/** Variables every task gets, set by `wf` itself. */
export const BUILTIN_VARS: readonly string[] = ["run_id", "workflow", "task_id", "attempt"];

/**
 * Variables forensic tasks also get. `failed_dag` (the workflow's name) is not in the spec:
 * the Go `wf`'s cicd-pipeline and data-etl examples use it, so we provide it for compatibility.
 */
export const FORENSIC_VARS: readonly string[] = ["failed_task", "error_message", "failed_dag"];

/** A task field that may hold `{{.x}}` references, with its path under `[tasks.<id>]`. */
export interface TemplatedField {
  /** Path below the task: `["cmd"]`, `["env", "CI"]`. */
  readonly path: readonly string[];
  readonly text: string;
}

const CMD: readonly string[] = ["cmd"];
const NAME: readonly string[] = ["name"];
const WORKING_DIR: readonly string[] = ["working_dir"];

/** The fields of a task that are rendered as templates: cmd, name, working_dir, env values. */
export function templatedFields(task: TaskDef): TemplatedField[] {
  const fields: TemplatedField[] = [{ path: CMD, text: task.cmd }];
  if (task.name !== undefined) fields.push({ path: NAME, text: task.name });
  if (task.workingDir !== undefined) fields.push({ path: WORKING_DIR, text: task.workingDir });
  for (const [k, v] of Object.entries(task.env)) fields.push({ path: ["env", k], text: v });
  return fields;
}

/** The variables a task's templated fields reference, each once, in order. */
export function referencedVars(task: TaskDef): string[] {
  const names = new Set<string>();
  for (const f of templatedFields(task)) for (const r of templateRefs(f.text)) names.add(r.name);
  return [...names];
}

/** The variable a node registers: its task's `register`, rendered with the node's matrix values. */
export function registeredName(node: Pick<DagNode, "task" | "matrix">): string | undefined {
  const reg = node.task.register;
  if (reg === undefined || !reg.includes("{{")) return reg;
  return renderTemplate(reg, (k) => node.matrix[k]).text;
}

/** Every variable any node of the graph registers. */
export function allRegistered(dag: Dag): Set<string> {
  const names = new Set<string>();
  for (const node of dag.nodes.values()) {
    const name = registeredName(node);
    if (name !== undefined) names.add(name);
  }
  return names;
}

/**
 * The names the workflow gives a task whatever its place in the graph: `[vars]`, built-ins
 * (forensic ones for a forensic task) and the task's matrix keys.
 */
export function workflowProvides(dag: Dag, task: TaskDef, name: string): boolean {
  return Object.hasOwn(dag.workflow.vars, name) ||
    BUILTIN_VARS.includes(name) ||
    (task.type === "forensic" && FORENSIC_VARS.includes(name)) ||
    (task.matrix ?? []).some(([k]) => k === name);
}

/** Where a variable a node reads gets its value. */
export type VarSource =
  /** `[vars]`, a built-in or a matrix key. */
  | { readonly kind: "workflow" }
  /** Registered by an ancestor (for a forensic task: by any node). */
  | { readonly kind: "ancestor"; readonly by: DagNode }
  /** Registered by a node of the reading task itself: not set before it runs. */
  | { readonly kind: "self"; readonly by: DagNode }
  /** Registered by a node that is not an ancestor: its value would be a race. */
  | { readonly kind: "race"; readonly by: DagNode }
  /** Nothing in the workflow: only `--var` can provide it. */
  | { readonly kind: "none" };

/** A read of variable `name` by a node of the graph, or by a forensic task. */
export interface VarRead {
  readonly reader: DagNode | TaskDef;
  readonly name: string;
}

/** Who registers what: the first node (in graph order) for each name. */
export function registerOwners(dag: Dag): Map<string, DagNode> {
  const owners = new Map<string, DagNode>();
  for (const node of dag.nodes.values()) {
    const name = registeredName(node);
    if (name !== undefined && !owners.has(name)) owners.set(name, node);
  }
  return owners;
}

/**
 * Where each read gets its value, answered together: ancestry is settled with one walk per
 * registering node that is read (stopping once its readers are found), not one per reader, so
 * a 20,000-task chain costs linear time, not quadratic.
 */
export function resolveReads(dag: Dag, reads: readonly VarRead[], owners = registerOwners(dag)): VarSource[] {
  const out: VarSource[] = [];
  const pending: { at: number; owner: DagNode }[] = [];
  const pairs: [from: NodeId, to: NodeId][] = [];
  for (const { reader, name } of reads) {
    const node = "deps" in reader ? reader : undefined;
    const task = node?.task ?? (reader as TaskDef);
    const by = owners.get(name);
    if (workflowProvides(dag, task, name)) out.push(FROM_WORKFLOW);
    else if (by === undefined) out.push(FROM_NOWHERE);
    else if (node === undefined) out.push({ kind: "ancestor", by });
    else if (by.task.id === task.id) out.push({ kind: "self", by });
    // The usual case, a direct dependency, needs no walk (a long list of deps is left to the walk).
    else if (node.deps.length <= 8 && node.deps.includes(by.id)) out.push({ kind: "ancestor", by });
    else {
      pending.push({ at: out.length, owner: by });
      pairs.push([by.id, node.id]);
      out.push({ kind: "race", by });
    }
  }
  const found = reachable(dag, pairs);
  pending.forEach((p, i) => {
    if (found[i]) out[p.at] = { kind: "ancestor", by: p.owner };
  });
  return out;
}

const FROM_WORKFLOW: VarSource = { kind: "workflow" };
const FROM_NOWHERE: VarSource = { kind: "none" };

/**
 * The variables the workflow itself provides to a node, before any `--var`: `[vars]`,
 * built-ins, the node's matrix keys and what its ancestors register. For one node; the engine
 * asks it once per node it starts.
 */
export function varsProvidedFor(dag: Dag, node: DagNode): Set<string> {
  const names = new Set<string>([...Object.keys(dag.workflow.vars), ...BUILTIN_VARS, ...Object.keys(node.matrix)]);
  for (const id of ancestors(dag, node.id)) {
    const anc = dag.nodes.get(id);
    const name = anc && registeredName(anc);
    if (name !== undefined) names.add(name);
  }
  return names;
}

/** A variable that tasks reference and nothing provides. */
export interface MissingVariable {
  readonly name: string;
  /** The tasks that reference it, in file order. */
  readonly tasks: TaskId[];
  /** True when every one of those tasks has `ignore_failure` (then it is only a warning). */
  readonly allIgnoreFailure: boolean;
}

/**
 * The run-time check (docs/workflow-file.md, "Where a variable must come from"): variables
 * referenced in templated fields that nothing in the workflow provides (`workflowProvides`,
 * or a `register` of any task: a read that is a race was rejected by validation) and no
 * `available` name (the `--var` names, or restored variables on resume) provides either.
 */
export function missingVariables(dag: Dag, available: ReadonlySet<string>): MissingVariable[] {
  const registered = allRegistered(dag);
  const found = new Map<string, TaskDef[]>();
  for (const task of dag.workflow.tasks.values()) {
    for (const name of referencedVars(task)) {
      if (registered.has(name) || available.has(name) || workflowProvides(dag, task, name)) continue;
      const list = found.get(name) ?? [];
      if (!list.includes(task)) list.push(task);
      found.set(name, list);
    }
  }
  return [...found].map(([name, ts]) => ({
    name,
    tasks: ts.map((t) => t.id),
    allIgnoreFailure: ts.every((t) => t.ignoreFailure),
  }));
}
