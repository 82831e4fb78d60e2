/** The one place that reads a workflow file from disk. */
import { readFile } from "node:fs/promises";
import type { Diagnostic, Result } from "../util/result.ts";
import { err, ok } from "../util/result.ts";
import type { ValidateOptions, ValidationResult } from "./validate.ts";
import { validateWorkflow } from "./validate.ts";

/** Reads a workflow file as UTF-8 text; a missing or unreadable file is a diagnostic. */
export async function readWorkflowFile(path: string): Promise<Result<string, Diagnostic[]>> {
  try {
    return ok(await readFile(path, "utf8"));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : e instanceof Error ? e.message : String(e);
    return err([{ severity: "error", message: `Cannot read workflow file "${path}": ${why}` }]);
  }
}

/** Reads and validates a workflow file. */
export async function loadWorkflow(path: string, opts: ValidateOptions = {}): Promise<ValidationResult> {
  const read = await readWorkflowFile(path);
  if (!read.ok) return { diagnostics: read.error };
  return validateWorkflow(path, read.value, opts);
}
