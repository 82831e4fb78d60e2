/** Which variables a task reads, and which ones the workflow can provide. */
import type { Dag, DagNode } from "./dag.ts";
import { ancestors } from "./build.ts";
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

/** The fields of a task that are rendered as templates: cmd, name, working_dir, env values. */
export function templatedFields(task: TaskDef): TemplatedField[] {
  const fields: TemplatedField[] = [{ path: ["cmd"], text: task.cmd }];
  if (task.name !== undefined) fields.push({ path: ["name"], text: task.name });
  if (task.workingDir !== undefined) fields.push({ path: ["working_dir"], text: task.workingDir });
  for (const [k, v] of Object.entries(task.env)) fields.push({ path: ["env", k], text: v });
  return fields;
}

/** The variables a task's templated fields reference, each once, in order. */
export function referencedVars(task: TaskDef): string[] {
  const names: string[] = [];
  for (const f of templatedFields(task)) {
    for (const r of templateRefs(f.text)) if (!names.includes(r.name)) names.push(r.name);
  }
  return names;
}

/** The variable a node registers: its task's `register`, rendered with the node's matrix values. */
export function registeredName(node: Pick<DagNode, "task" | "matrix">): string | undefined {
  const reg = node.task.register;
  if (reg === undefined) return undefined;
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
 * The variables the workflow itself provides to a node, before any `--var`: `[vars]`,
 * built-ins, the node's matrix keys and what its ancestors register.
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

/**
 * The variables a forensic task can get. It runs after a failure, at any point of the run,
 * so any variable any task registers may be set by then: all of them count as available.
 */
export function varsProvidedForForensic(dag: Dag, task: TaskDef): Set<string> {
  return new Set([
    ...Object.keys(dag.workflow.vars),
    ...BUILTIN_VARS,
    ...FORENSIC_VARS,
    ...(task.matrix ?? []).map(([k]) => k),
    ...allRegistered(dag),
  ]);
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
 * The run-time check of SPEC section 2: variables referenced in templated fields that no
 * `[vars]`, `register` (of any task), built-in, matrix key or `available` name (the `--var`
 * names, or restored variables on resume) provides. Ancestry is validation's business.
 */
export function missingVariables(dag: Dag, available: ReadonlySet<string>): MissingVariable[] {
  const registered = allRegistered(dag);
  const found = new Map<string, TaskDef[]>();
  const tasks: TaskDef[] = [...dag.workflow.tasks.values()];
  for (const task of tasks) {
    const provided = new Set<string>([
      ...Object.keys(dag.workflow.vars),
      ...BUILTIN_VARS,
      ...(task.type === "forensic" ? FORENSIC_VARS : []),
      ...(task.matrix ?? []).map(([k]) => k),
    ]);
    for (const name of referencedVars(task)) {
      if (provided.has(name) || registered.has(name) || available.has(name)) continue;
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
