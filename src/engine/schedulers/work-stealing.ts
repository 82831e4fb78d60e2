import type { NodeId } from "../../graph/dag.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * A node starts as soon as its dependencies have ended. Each worker keeps a
 * deque: nodes made ready by a worker go to the bottom of its own deque, and it
 * takes from the bottom (newest first, keeping a chain on one worker); an idle
 * worker with an empty deque steals from the top (oldest) of the fullest deque.
 */
export class WorkStealingScheduler implements Scheduler {
  private readonly deques: NodeId[][];
  private next = 0;

  constructor(workers: number) {
    this.deques = Array.from({ length: workers }, () => []);
  }

  ready(nodes: readonly NodeId[], worker?: number): void {
    for (const node of nodes) {
      // Roots and nodes freed by no worker are dealt round-robin.
      const owner = worker ?? this.next++ % this.deques.length;
      this.deques[owner]!.push(node);
    }
  }

  take(worker: number): NodeId | undefined {
    const own = this.deques[worker]!;
    if (own.length > 0) return own.pop();
    let victim: NodeId[] | undefined;
    for (const deque of this.deques) {
      if (deque.length > 0 && (victim === undefined || deque.length > victim.length)) victim = deque;
    }
    return victim?.shift();
  }

  ended(): void {}
}
