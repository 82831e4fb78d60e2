/** Prints workflow diagnostics: `file:line:col: error: message`, the line, and a marker under it. */
import pc from "picocolors";
import type { Diagnostic } from "../util/result.ts";

/**
 * Formats diagnostics like rustc or wireit's DiagnosticPrinter:
 *
 *   ci.toml:14:16: error: Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)
 *      14 | depends_on = ["lnt"]
 *         |               ^~~~~
 *
 * `sources` maps a file to its text, to show the line; without it only the first line prints.
 * Ends with a newline per diagnostic; "" for none.
 */
export function formatDiagnostics(
  diags: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  color: boolean,
): string {
  const c = pc.createColors(color);
  let out = "";
  for (const d of diags) {
    const label = d.severity === "error" ? c.bold(c.red("error")) : c.bold(c.yellow("warning"));
    const loc = d.location;
    const where = loc ? `${loc.file}:${loc.line}:${loc.column}: ` : "";
    out += `${c.bold(where)}${label}: ${d.message}\n`;
    const text = loc && sources.get(loc.file);
    if (!loc || text === undefined) continue;
    const line = text.split(/\r?\n/)[loc.line - 1];
    if (line === undefined) continue;
    const gutter = String(loc.line);
    const pad = " ".repeat(gutter.length);
    // Tabs before the marker are kept as tabs so the marker lines up in any terminal.
    const before = line.slice(0, loc.column - 1).replace(/[^\t]/g, " ");
    const length = Math.max(1, Math.min(loc.length ?? 1, line.length - (loc.column - 1)));
    const marker = `^${"~".repeat(length - 1)}`;
    out += `${c.dim(`${gutter} |`)} ${line}\n`;
    out += `${c.dim(`${pad} |`)} ${before}${d.severity === "error" ? c.red(marker) : c.yellow(marker)}\n`;
  }
  return out;
}

/** One diagnostic in `wf validate --json`. */
export interface JsonDiagnostic {
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  readonly message: string;
}

/** The document `wf validate --json` prints. */
export interface JsonValidation {
  readonly valid: boolean;
  readonly errors: JsonDiagnostic[];
  readonly warnings: JsonDiagnostic[];
}

/** Diagnostics as a plain object for `wf validate --json`; `valid` when there is no error. */
export function diagnosticsToJson(diags: readonly Diagnostic[]): JsonValidation {
  const item = (d: Diagnostic): JsonDiagnostic => ({
    file: d.location?.file ?? null,
    line: d.location?.line ?? null,
    column: d.location?.column ?? null,
    message: d.message,
  });
  const errors = diags.filter((d) => d.severity === "error").map(item);
  const warnings = diags.filter((d) => d.severity === "warning").map(item);
  return { valid: errors.length === 0, errors, warnings };
}
