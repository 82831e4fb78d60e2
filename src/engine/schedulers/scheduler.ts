/**
 * A scheduler decides which ready node an idle worker starts next. It is pure
 * bookkeeping: the run loop tells it what became ready and what ended, and
 * asks it for work. Three strategies: sequential, level-parallel, work-stealing.
 */
import type { Dag, NodeId } from "../../graph/dag.ts";

export interface Scheduler {
  /** `nodes` have all their dependencies ended; `worker` ended the last one, if any. */
  ready(nodes: readonly NodeId[], worker?: number): void;
  /** The next node for idle `worker`, or undefined when nothing may start now. */
  take(worker: number): NodeId | undefined;
  /** `node` ended: it ran, was skipped, or was cancelled without running. */
  ended(node: NodeId): void;
}
