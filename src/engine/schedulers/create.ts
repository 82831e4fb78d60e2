/** Picks the scheduler of a mode; apart from the interface, so the strategies never import their factory. */
import type { Dag } from "../../graph/dag.ts";
import type { Mode } from "../../journal/events.ts";
import { unreachable } from "../../util/unreachable.ts";
import { LevelScheduler } from "./level.ts";
import type { Scheduler } from "./scheduler.ts";
import { SequentialScheduler } from "./sequential.ts";
import { WorkStealingScheduler } from "./work-stealing.ts";

export function createScheduler(mode: Mode, dag: Dag, workers: number): Scheduler {
  switch (mode) {
    case "sequential":
      return new SequentialScheduler(dag);
    case "parallel":
      return new LevelScheduler(dag);
    case "work-stealing":
      return new WorkStealingScheduler(workers);
    default:
      return unreachable(mode);
  }
}
