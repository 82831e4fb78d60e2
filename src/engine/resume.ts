/**
 * The pure decisions of `wf resume`: what changed in the workflow since the
 * run started, and, for every task, whether it is skipped or run again, and why.
 */
import { descendants } from "../graph/build.ts";
import type { Dag, NodeId } from "../graph/dag.ts";
import type { RunState } from "../journal/fold.ts";
import { missingVariables } from "../graph/variables.ts";
import type { Failure } from "../util/failure.ts";
import { defSha256 } from "./hashes.ts";

export interface DefinitionChanges {
  /** Changes that make the journal's results meaningless for the new graph: resume refuses them unless --force. */
  readonly structural: string[];
  /** Tasks that succeeded and whose definition changed since: they are not re-run unless asked. */
  readonly changedSucceeded: string[];
}

/** Compares the graph journaled at the run's start with the workflow file as it is now. */
export function compareDefinitions(state: RunState, dag: Dag): DefinitionChanges {
  const structural: string[] = [];
  const changedSucceeded: string[] = [];
  for (const old of state.started.nodes) {
    const now = dag.nodes.get(old.id as NodeId);
    const succeeded = state.tasks.get(old.id)?.state === "succeeded";
    if (now === undefined) {
      if (succeeded) structural.push(`task "${old.id}" succeeded but is no longer in the workflow (removed or renamed)`);
      continue;
    }
    const before = [...old.deps].sort().join(", ");
    const after = [...now.deps].sort().join(", ");
    if (before !== after) {
      structural.push(`the dependencies of "${old.id}" changed from [${before}] to [${after}]`);
    }
    if (succeeded && defSha256(now) !== old.def_sha256) changedSucceeded.push(old.id);
  }
  return { structural, changedSucceeded };
}

export interface PlanEntry {
  readonly id: NodeId;
  readonly action: "skip" | "run";
  readonly why: string;
}

/**
 * For every node of the graph, in order: skipped when it succeeded (or its
 * condition was false) and no `--from` covers it; run otherwise, with the reason.
 */
export function planResume(state: RunState, dag: Dag, from: readonly NodeId[]): PlanEntry[] {
  const rerun = new Set<NodeId>([...from, ...descendants(dag, from)]);
  return dag.order.map((id) => {
    const task = state.tasks.get(id);
    const was = task?.state ?? "new";
    if (rerun.has(id)) {
      const cause = from.includes(id) ? "named by --from" : "a descendant of a --from task";
      return { id, action: "run", why: `${cause}${was === "succeeded" ? ", had succeeded" : ""}` };
    }
    switch (was) {
      case "succeeded":
        return { id, action: "skip", why: "already succeeded" };
      case "skipped":
        return { id, action: "skip", why: `already skipped: ${task?.reason ?? "condition is false"}` };
      case "new":
        return { id, action: "run", why: "new in the workflow file" };
      case "pending":
        return { id, action: "run", why: "never started" };
      case "running":
      case "interrupted":
        return { id, action: "run", why: "interrupted" };
      case "failed":
        return { id, action: "run", why: task?.ignored ? "failed (ignored)" : "failed" };
      case "cancelled":
        return { id, action: "run", why: `cancelled: ${task?.reason ?? "no reason given"}` };
    }
  });
}

/**
 * Restoring variables on resume: `--var` values were never stored, so a task still to
 * run may lack one. A variable missing for a task that must succeed stops the
 * resume (`failure`); one missing only for tasks that ignore failure is a warning.
 */
export function resumeVariables(
  state: RunState,
  dag: Dag,
  plan: readonly PlanEntry[],
  cliVars: ReadonlySet<string>,
): { readonly failure?: Failure; readonly warnings: Failure[] } {
  const toRun = new Set<string>(plan.filter((e) => e.action === "run").map((e) => dag.nodes.get(e.id)!.task.id));
  for (const task of dag.forensic.keys()) toRun.add(task);
  const available = new Set([...cliVars, ...state.vars.keys()]);
  const warnings: Failure[] = [];
  for (const missing of missingVariables(dag, available)) {
    const tasks = missing.tasks.filter((t) => toRun.has(t));
    if (tasks.length === 0) continue;
    const failure: Failure = { kind: "missing-variable", name: missing.name, tasks, passedToOriginal: state.started.var_names.includes(missing.name) };
    if (!tasks.every((t) => dag.workflow.tasks.get(t)?.ignoreFailure)) return { failure, warnings };
    warnings.push(failure);
  }
  return { warnings };
}

/** Lives with the liveness checks of runs (runs/active.ts), which `--exclusive` and `wf prune` use too. */
export { possibleOrphans } from "../runs/active.ts";
