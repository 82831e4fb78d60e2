/** Hashes that let a resume tell whether the workflow file changed under a run. */
import { createHash } from "node:crypto";
import type { DagNode } from "../graph/dag.ts";

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A hash of everything in a node's definition that changes what it does (its location does not). */
export function defSha256(node: DagNode): string {
  const { location: _location, ...def } = node.task;
  return sha256(JSON.stringify([def, node.matrix]));
}
