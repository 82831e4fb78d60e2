/** `wf graph [workflow]`: the DAG as text, dot, mermaid or json; `--run <id>` adds that run's states. */
import type { TaskState } from "../journal/fold.ts";
import type { Io } from "../platform/io.ts";
import { openRun } from "../runs/open.ts";
import type { Failure, Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { graphFromDag, graphFromRun, renderDot, renderJson, renderMermaid, renderText, type GraphModel } from "../report/graph.ts";
import { inert, inertDeep } from "../report/inert.ts";
import { loadForRun } from "./load.ts";

export const GRAPH_FORMATS = ["text", "dot", "mermaid", "json"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface GraphOptions {
  readonly format: GraphFormat;
  readonly run?: string;
  readonly stateDir: () => Result<string, Failure>;
  readonly workflowsDir?: string;
  readonly color: boolean;
}

export async function graphCommand(workflow: string | undefined, opts: GraphOptions, io: Io): Promise<Outcome> {
  const out = io.out;
  if (workflow === undefined && opts.run === undefined) {
    return err({ kind: "usage", message: "Missing workflow: pass a workflow file or name, or --run <id>" });
  }
  let model: GraphModel | undefined;
  if (workflow !== undefined) {
    const loaded = await loadForRun(workflow, opts.workflowsDir, new Set());
    if (!loaded.ok) return loaded;
    model = graphFromDag(loaded.value.dag);
  }
  let states: Map<string, TaskState> | undefined;
  if (opts.run !== undefined) {
    const stateDir = opts.stateDir();
    if (!stateDir.ok) return stateDir;
    const opened = await openRun(stateDir.value, opts.run, "graph");
    if (!opened.ok) return opened;
    const run = opened.value;
    states = new Map([...run.state.tasks].map(([id, t]) => [id, t.state]));
    for (const f of run.state.forensic) {
      const fin = f.attempt.finished;
      states.set(f.task, fin?.state ?? (run.live ? "running" : "interrupted"));
    }
    model ??= graphFromRun(run.state.started, run.state.forensic.map((f) => ({ task: f.task, target: f.target })));
  }
  // Names come from a workflow file or a journal: shown inert, but for JSON, which keeps them exact.
  switch (opts.format) {
    case "text": out(renderText(inertDeep(model!), inertDeep(states), opts.color)); break;
    case "dot": out(inert(renderDot(model!, states))); break;
    case "mermaid": out(inert(renderMermaid(model!, states))); break;
    case "json": out(renderJson(model!, states)); break;
  }
  return ok(0);
}
