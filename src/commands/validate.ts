/** `wf validate`: every problem at once, as text on stderr or as JSON on stdout. */
import { diagnosticsToJson, formatDiagnostics } from "../report/diagnostics.ts";
import type { Io } from "../platform/io.ts";
import type { Outcome } from "../util/failure.ts";
import { ok } from "../util/result.ts";
import { loadWorkflow } from "./load.ts";
import { inert, jsonText } from "../report/inert.ts";

export interface ValidateFlags {
  readonly json: boolean;
  readonly vars: ReadonlySet<string>;
  readonly color: boolean;
  readonly workflowsDir?: string;
}

export async function validateCommand(
  target: string,
  flags: ValidateFlags,
  io: Io,
): Promise<Outcome> {
  const { out, err } = io;
  const read = await loadWorkflow(target, flags.workflowsDir, flags.vars);
  if (!read.ok) return read;
  const loaded = read.value;
  const errors = loaded.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = loaded.diagnostics.length - errors;
  if (flags.json) {
    out(`${jsonText(diagnosticsToJson(loaded.diagnostics), 2)}\n`);
    return ok(errors > 0 ? 2 : 0);
  }
  if (loaded.diagnostics.length > 0) {
    err(formatDiagnostics(loaded.diagnostics, new Map([[loaded.file, loaded.source]]), flags.color));
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (errors > 0) {
    err(inert(`Workflow "${loaded.file}" is invalid: ${plural(errors, "error")}, ${plural(warnings, "warning")}\n`));
    return ok(2);
  }
  const tasks = loaded.dag?.nodes.size ?? 0;
  out(inert(`Workflow "${loaded.file}" is valid: ${plural(tasks, "task")}${warnings > 0 ? `, ${plural(warnings, "warning")}` : ""}\n`));
  return ok(0);
}
