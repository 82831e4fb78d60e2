/** `wf run --dry-run`: what would run, in which order or levels, without running anything. */
import type { Dag } from "../graph/dag.ts";
import type { Mode } from "../journal/events.ts";

export function describePlan(dag: Dag, mode: Mode, maxParallel: number): string {
  const lines = [`Workflow "${dag.workflow.name}": ${dag.order.length} tasks, mode ${mode}${mode === "sequential" ? "" : `, at most ${maxParallel} at once`}`];
  const describe = (id: string) => {
    const task = dag.nodes.get(id as never)!.task;
    const notes = [
      task.if === undefined ? "" : `if ${task.if}`,
      task.retries > 0 ? `retries ${task.retries}` : "",
      task.ignoreFailure ? "ignore_failure" : "",
      task.onFailure === undefined ? "" : `on_failure ${task.onFailure}`,
    ].filter((n) => n !== "");
    return `${id}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`;
  };
  if (mode === "sequential") {
    dag.order.forEach((id, i) => lines.push(`  ${i + 1}. ${describe(id)}`));
  } else {
    dag.levels.forEach((level, i) => {
      lines.push(`  level ${i + 1}:`);
      for (const id of level) {
        const deps = dag.nodes.get(id)!.deps;
        lines.push(`    ${describe(id)}${deps.length > 0 ? ` after ${deps.join(", ")}` : ""}`);
      }
    });
  }
  if (dag.forensic.size > 0) lines.push(`  on failure: ${[...dag.forensic.keys()].join(", ")}`);
  return `${lines.join("\n")}\n`;
}
