import type { Dag, NodeId } from "../../graph/dag.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * Level by level: every node of level k may run at once, and level k+1 starts
 * only when the whole of level k has ended (the barrier).
 */
export class LevelScheduler implements Scheduler {
  private readonly levels: readonly (readonly NodeId[])[];
  private readonly levelOf = new Map<NodeId, number>();
  private readonly endedNodes = new Set<NodeId>();
  private readonly readyNodes = new Set<NodeId>();
  private current = 0;

  constructor(dag: Dag) {
    this.levels = dag.levels;
    dag.levels.forEach((level, i) => level.forEach((id) => this.levelOf.set(id, i)));
  }

  ready(nodes: readonly NodeId[]): void {
    for (const node of nodes) this.readyNodes.add(node);
  }

  take(): NodeId | undefined {
    const level = this.levels[this.current];
    if (level === undefined) return undefined;
    for (const node of level) {
      if (this.readyNodes.delete(node)) return node;
    }
    return undefined;
  }

  ended(node: NodeId): void {
    this.endedNodes.add(node);
    this.readyNodes.delete(node);
    while (this.levels[this.current]?.every((id) => this.endedNodes.has(id))) this.current++;
  }
}
