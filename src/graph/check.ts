/**
 * The checks that need the graph, each with a located diagnostic: cycles, two nodes registering
 * one name, and every `{{.x}}` and `if` read against what the node can see (variables.ts).
 *
 *   Workflow (workflow/validate.ts) --buildDag--> Dag --(findCycles if not all ordered)--> --variables--> diagnostics
 */
import type { Diagnostic } from "../util/result.ts";
import { exprVars, parseExpr } from "../workflow/expr.ts";
import type { SourceIndex, Span } from "../workflow/locate.ts";
import { templateRefs } from "../workflow/template.ts";
import type { TaskDef, TaskId, Workflow } from "../workflow/types.ts";
import { buildDag, findCycles } from "./build.ts";
import type { Dag, DagNode } from "./dag.ts";
import { registeredName, resolveReads, templatedFields, type VarRead } from "./variables.ts";

export interface GraphCheckOptions {
  /** Names passed with `--var`: references to them are not reported. */
  readonly cliVars?: ReadonlySet<string>;
  /**
   * The file stage already found errors: report cycles among the tasks it kept, then stop
   * (variables are checked only on a workflow without errors, so one mistake gives one message).
   */
  readonly hasErrors?: boolean;
}

export interface GraphCheckResult {
  /** Present when no stage found an error. */
  readonly dag?: Dag;
  readonly diagnostics: Diagnostic[];
}

const quote = (s: string) => `"${s}"`;

/** Checks a parsed workflow's graph; `index` locates what it reports. */
export function checkGraph(workflow: Workflow, index: SourceIndex, opts: GraphCheckOptions = {}): GraphCheckResult {
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic["severity"], message: string, span: Span) =>
    diagnostics.push({ severity, message, location: index.location(span) });
  const error = (message: string, span: Span) => report("error", message, span);
  const warning = (message: string, span: Span) => report("warning", message, span);

  // Cycles, at the level of tasks: a cell-level cycle is always a task-level one too.
  const reportCycles = () => {
    const tasks = workflow.tasks;
    const normal = [...tasks.values()].filter((t) => t.type === "normal").map((t) => t.id);
    // Forensic and unknown tasks are not in `normal`, so findCycles ignores edges to them.
    const edges = (id: TaskId) => tasks.get(id)?.dependsOn ?? [];
    for (const cycle of findCycles(normal, edges)) {
      const first = cycle[0]!;
      const next = cycle[1] ?? first;
      error(`Cycle in depends_on: ${[...cycle, first].map(quote).join(" -> ")}`, dependencySpan(index, first, next));
    }
  };
  if (opts.hasErrors) {
    reportCycles();
    return { diagnostics };
  }

  // Nodes on a cycle never enter the order, so a complete order means no cycle and no search.
  // Without file errors every depends_on entry matches at least one node, so a cycle of tasks
  // is a cycle of nodes too and none is missed.
  const dag = buildDag(workflow);
  if (dag.order.length < dag.nodes.size) reportCycles();
  if (diagnostics.length > 0) return { diagnostics };
  checkVariables(dag, index, opts.cliVars ?? new Set(), error, warning);
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  return { dag, diagnostics };
}

/** The depends_on element of `task` that names `dep` (or a cell of it). */
function dependencySpan(index: SourceIndex, task: TaskId, dep: TaskId): Span {
  const path = ["tasks", task, "depends_on"];
  const items = index.entry(path)?.items ?? [];
  const at = items.findIndex((span) => {
    const raw = index.source.slice(span.offset, span.offset + span.length);
    const text = raw.startsWith("'") ? raw.slice(1, -1) : decodeBasic(raw);
    return text === dep || text.startsWith(`${dep}[`);
  });
  return index.itemSpan(path, at);
}

function decodeBasic(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}

/** Registers, references and their ancestry, on the expanded graph. */
function checkVariables(
  dag: Dag,
  index: SourceIndex,
  cliVars: ReadonlySet<string>,
  error: (message: string, span: Span) => void,
  warning: (message: string, span: Span) => void,
): void {
  // Who registers what: two different tasks (or two cells of one task) may not share a name.
  // One pass: the first node to register a name owns it (as registerOwners says), later ones clash.
  const owners = new Map<string, DagNode>();
  const sameTaskReported = new Set<TaskId>();
  for (const node of dag.nodes.values()) {
    const name = registeredName(node);
    if (name === undefined) continue;
    const other = owners.get(name);
    if (other === undefined) {
      owners.set(name, node);
      continue;
    }
    const span = index.valueSpan(["tasks", node.task.id, "register"]);
    if (other.task.id !== node.task.id) {
      error(`Variable "${name}" is registered by both "${other.task.id}" and "${node.task.id}"`, span);
    } else if (!sameTaskReported.has(node.task.id)) {
      sameTaskReported.add(node.task.id);
      const key = node.task.matrix?.[0]?.[0] ?? "key";
      error(`Variable "${name}" is registered by every cell of matrix task "${node.task.id}": put a matrix key in its name, like "${name}_{{.${key}}}"`, span);
    }
  }
  for (const t of dag.forensic.values()) {
    if (t.register === undefined) continue;
    const other = owners.get(t.register);
    if (other) error(`Variable "${t.register}" is registered by both "${other.task.id}" and "${t.id}"`, index.valueSpan(["tasks", t.id, "register"]));
  }

  // Every read, in file order (node by node, then forensic tasks), answered in one batch. A
  // read keeps only what locates it: its key and span are made for the few that are reported.
  interface Use extends VarRead {
    readonly task: TaskDef;
    /** The field's path below the task (`["cmd"]`, `["env", "CI"]`); undefined for `if`. */
    readonly field: readonly string[] | undefined;
    /** Where the reference is in the field's text. */
    readonly at: number;
    readonly length: number;
  }
  const uses: Use[] = [];
  const collect = (reader: DagNode | TaskDef, task: TaskDef) => {
    for (const field of templatedFields(task)) {
      for (const ref of templateRefs(field.text)) {
        uses.push({ reader, name: ref.name, task, field: field.path, at: ref.index, length: ref.length });
      }
    }
    // `if` reads an unset variable as "", so only a race is an error there.
    const cond = task.if === undefined || !("deps" in reader) ? undefined : parseExpr(task.if);
    if (cond?.ok) {
      for (const name of exprVars(cond.value)) uses.push({ reader, name, task, field: undefined, at: 0, length: 0 });
    }
  };
  for (const node of dag.nodes.values()) collect(node, node.task);
  for (const task of dag.forensic.values()) collect(task, task);
  const keyOf = ({ task, field, at, name }: Use) =>
    field === undefined ? `${task.id}\u0000if\u0000${name}` : `${task.id}\u0000${field.join(".")}\u0000${at}`;
  const spanOf = ({ task, field, at, length, name }: Use): Span =>
    field === undefined ? index.findInValue(["tasks", task.id, "if"], name) : index.inString(["tasks", task.id, ...field], at, length);

  const seen = new Set<string>();
  const once = (use: Use) => {
    const key = keyOf(use);
    return seen.has(key) ? false : (seen.add(key), true);
  };
  resolveReads(dag, uses, owners).forEach((source, i) => {
    const use = uses[i]!;
    const { task, name } = use;
    const inIf = use.field === undefined;
    switch (source.kind) {
      case "workflow":
      case "ancestor":
        return;
      case "self":
        if (!once(use)) return;
        if (inIf) error(`Variable "${name}" is registered by "${source.by.id}", which "${task.id}" does not depend on: its value would be a race`, spanOf(use));
        else error(`Variable "${name}" is registered by "${task.id}" itself: it is not set before "${task.id}" runs`, spanOf(use));
        return;
      case "race":
        if (once(use)) error(`Variable "${name}" is registered by "${source.by.id}", which "${task.id}" does not depend on: its value would be a race`, spanOf(use));
        return;
      case "none":
        if (!inIf && !cliVars.has(name) && once(use)) warning(`Variable "${name}" is not defined: pass --var ${name}=VALUE`, spanOf(use));
        return;
    }
  });
}
