import type { TaskDef, TaskId, Workflow } from "../workflow/types.ts";

/** A node of the run graph: a task, or one cell of a matrix task (`publish[os=linux]`). */
export type NodeId = string & { readonly __brand: "NodeId" };

export interface DagNode {
  readonly id: NodeId;
  readonly task: TaskDef;
  /** This node's matrix values; empty for a task without a matrix. */
  readonly matrix: Readonly<Record<string, string>>;
  /** Direct dependencies (a matrix task named in depends_on means all its nodes). */
  readonly deps: readonly NodeId[];
}

/** The expanded graph of the normal tasks; forensic tasks stay outside it. */
export interface Dag {
  readonly workflow: Workflow;
  readonly nodes: ReadonlyMap<NodeId, DagNode>;
  /** Deterministic topological order: file order among ready nodes. */
  readonly order: readonly NodeId[];
  /** Level i holds the nodes whose longest path from a root has i edges. */
  readonly levels: readonly (readonly NodeId[])[];
  /** Direct dependents of each node. */
  readonly dependents: ReadonlyMap<NodeId, readonly NodeId[]>;
  /** Forensic tasks by id; they run on failure and are never part of the order. */
  readonly forensic: ReadonlyMap<TaskId, TaskDef>;
}
