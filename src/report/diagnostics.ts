/** Prints workflow diagnostics: `file:line:col: error: message`, the line, and a marker under it. */
import pc from "picocolors";
import type { Diagnostic } from "../util/result.ts";
import { inert } from "./inert.ts";

/**
 * Formats diagnostics like rustc or wireit's DiagnosticPrinter:
 *
 *   ci.toml:14:16: error: Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)
 *      14 | depends_on = ["lnt"]
 *         |               ^~~~~
 *
 * `sources` maps a file to its text, to show the line; without it only the first line prints.
 * Shows the first MAX_SHOWN diagnostics and counts the rest; a source line longer than
 * MAX_LINE_WIDTH is cut to a window around the marker, so the output stays small however
 * many problems one long line holds. Ends with a newline per line; "" for none. Paths,
 * messages and source lines are made inert (control characters shown escaped).
 */
export function formatDiagnostics(
  diags: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  color: boolean,
): string {
  const c = pc.createColors(color);
  const lines = new Map<string, string[]>();
  let out = "";
  for (const d of diags.slice(0, MAX_SHOWN)) {
    const label = d.severity === "error" ? c.bold(c.red("error")) : c.bold(c.yellow("warning"));
    const loc = d.location;
    const where = loc ? `${inert(loc.file)}:${loc.line}:${loc.column}: ` : "";
    out += `${c.bold(where)}${label}: ${inert(d.message)}\n`;
    const text = loc && sources.get(loc.file);
    if (!loc || text === undefined) continue;
    // Split once per file: splitting per diagnostic made many diagnostics quadratic.
    const fileLines = lines.get(loc.file) ?? text.split(/\r?\n/);
    lines.set(loc.file, fileLines);
    const full = fileLines[loc.line - 1];
    if (full === undefined) continue;
    const { line, column, end } = window(full, loc.column);
    const gutter = String(loc.line);
    const pad = " ".repeat(gutter.length);
    // Tabs before the marker are kept as tabs so the marker lines up in any terminal.
    const before = inert(line.slice(0, column - 1)).replace(/[^\t]/g, " ");
    const length = Math.max(1, Math.min(loc.length ?? 1, end - (column - 1)));
    const marker = `^${"~".repeat(length - 1)}`;
    out += `${c.dim(`${gutter} |`)} ${inert(line)}\n`;
    out += `${c.dim(`${pad} |`)} ${before}${d.severity === "error" ? c.red(marker) : c.yellow(marker)}\n`;
  }
  const hidden = diags.length - MAX_SHOWN;
  if (hidden > 0) out += `${hidden} more problem${hidden === 1 ? "" : "s"} not shown: pass --json to list them all\n`;
  return out;
}

/** How many diagnostics the text output shows; the rest are counted (JSON has them all). */
export const MAX_SHOWN = 20;

/** The widest source line shown; a longer one is cut to a window around the marker. */
export const MAX_LINE_WIDTH = 120;

/**
 * A long line cut to MAX_LINE_WIDTH characters from a quarter of that before `column`, with
 * "..." where it was cut; `end` is where the shown text ends (the marker stops there).
 */
function window(line: string, column: number): { line: string; column: number; end: number } {
  if (line.length <= MAX_LINE_WIDTH) return { line, column, end: line.length };
  const start = Math.max(0, Math.min(column - 1 - MAX_LINE_WIDTH / 4, line.length - MAX_LINE_WIDTH));
  const end = Math.min(line.length, start + MAX_LINE_WIDTH);
  const head = start > 0 ? "..." : "";
  const tail = end < line.length ? "..." : "";
  return { line: `${head}${line.slice(start, end)}${tail}`, column: column - start + head.length, end: head.length + end - start };
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
