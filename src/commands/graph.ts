/** `wf graph [workflow]`: the DAG as text, dot, mermaid or json; `--run <id>` adds that run's states. */
import type { TaskState } from "../journal/fold.ts";
import { openRun } from "./lookup.ts";
import { graphFromDag, graphFromRun, renderDot, renderJson, renderMermaid, renderText, type GraphModel } from "../report/graph.ts";
import { WfError } from "../util/result.ts";
import { loadForRun } from "./load.ts";

export const GRAPH_FORMATS = ["text", "dot", "mermaid", "json"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface GraphOptions {
  readonly format: string;
  readonly run?: string;
  readonly stateDir: () => string;
  readonly workflowsDir?: string;
  readonly color: boolean;
}

export async function graphCommand(workflow: string | undefined, opts: GraphOptions, out: (text: string) => void): Promise<number> {
  if (!(GRAPH_FORMATS as readonly string[]).includes(opts.format)) {
    throw new WfError(`Invalid --format "${opts.format}": expected one of ${GRAPH_FORMATS.join(", ")}`, 2);
  }
  if (workflow === undefined && opts.run === undefined) throw new WfError("Missing workflow: pass a workflow file or name, or --run <id>", 2);
  let model: GraphModel | undefined;
  if (workflow !== undefined) model = graphFromDag((await loadForRun(workflow, opts.workflowsDir, new Set())).dag);
  let states: Map<string, TaskState> | undefined;
  if (opts.run !== undefined) {
    const run = await openRun(opts.stateDir(), opts.run);
    states = new Map([...run.state.tasks].map(([id, t]) => [id, t.state]));
    for (const f of run.state.forensic) {
      const fin = f.attempt.finished;
      states.set(f.task, fin?.state ?? (run.live ? "running" : "interrupted"));
    }
    model ??= graphFromRun(run.state.started, run.state.forensic.map((f) => ({ task: f.task, target: f.target })));
  }
  const format = opts.format as GraphFormat;
  switch (format) {
    case "text": out(renderText(model!, states, opts.color)); break;
    case "dot": out(renderDot(model!, states)); break;
    case "mermaid": out(renderMermaid(model!, states)); break;
    case "json": out(renderJson(model!, states)); break;
  }
  return 0;
}
