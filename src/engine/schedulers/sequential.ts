import type { Dag, NodeId } from "../../graph/dag.ts";
import type { Scheduler } from "./scheduler.ts";

/** One node at a time, always the ready node earliest in the DAG's topological order. */
export class SequentialScheduler implements Scheduler {
  private readonly rank: ReadonlyMap<NodeId, number>;
  private readonly queue: NodeId[] = [];

  constructor(dag: Dag) {
    this.rank = new Map(dag.order.map((id, i) => [id, i]));
  }

  ready(nodes: readonly NodeId[]): void {
    this.queue.push(...nodes);
    this.queue.sort((a, b) => this.rank.get(a)! - this.rank.get(b)!);
  }

  take(): NodeId | undefined {
    return this.queue.shift();
  }

  ended(): void {}
}
