/** Finds a workflow file by path or name and validates it; every problem is a Failure (exit 2). */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Dag } from "../graph/dag.ts";
import { type Failure, fsProblem } from "../util/failure.ts";
import { type Diagnostic, err, ok, type Result } from "../util/result.ts";
import { checkGraph } from "../graph/check.ts";
import { parseWorkflow } from "../workflow/validate.ts";
import type { Workflow } from "../workflow/types.ts";

export interface ValidationResult {
  /** Present only when there is no error (warnings allowed). */
  readonly workflow?: Workflow;
  readonly dag?: Dag;
  /** Errors and warnings: the file's, then the graph's. */
  readonly diagnostics: Diagnostic[];
}

/**
 * A workflow file's text -> its Workflow and Dag, or every problem at once. Pure: the file
 * stage (workflow/) and then the graph stage (graph/check.ts).
 */
export function validateWorkflow(file: string, source: string, opts: { readonly cliVars?: ReadonlySet<string> } = {}): ValidationResult {
  const parsed = parseWorkflow(file, source);
  if (parsed.workflow === undefined || parsed.index === undefined) return { diagnostics: parsed.diagnostics };
  const hasErrors = parsed.diagnostics.some((d) => d.severity === "error");
  const graph = checkGraph(parsed.workflow, parsed.index, { hasErrors, ...(opts.cliVars ? { cliVars: opts.cliVars } : {}) });
  const diagnostics = [...parsed.diagnostics, ...graph.diagnostics];
  return graph.dag === undefined ? { diagnostics } : { workflow: parsed.workflow, dag: graph.dag, diagnostics };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** A path that exists, or `<workflows-dir>/<name>.toml` (`--workflows-dir`, `$WF_WORKFLOWS_DIR`, `./workflows`: the caller passes the first set). */
export async function resolveWorkflowPath(target: string, workflowsDir?: string): Promise<Result<string, Failure>> {
  const found = await stat(target).catch(() => undefined);
  if (found?.isFile()) return ok(target);
  if (found?.isDirectory()) return err({ kind: "workflow-unreadable", file: target, problem: "is-a-directory" });
  // A path (it has a slash) means that file; only a bare name is looked up in the workflows folder.
  if (target.includes("/")) return err({ kind: "workflow-not-found", target });
  const candidate = join(workflowsDir ?? "workflows", target.endsWith(".toml") ? target : `${target}.toml`);
  if (await isFile(candidate)) return ok(candidate);
  return err({ kind: "workflow-not-found", target, candidate });
}

export interface Loaded {
  readonly dag: Dag;
  readonly diagnostics: Diagnostic[];
  readonly source: string;
  readonly file: string;
}

/**
 * The text of a UTF-8 file, or the offset of its first byte that is not valid UTF-8 (a
 * lenient decoder would turn it into U+FFFD and run a command the author never wrote).
 */
export function decodeUtf8(bytes: Uint8Array): string | number {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return firstInvalidUtf8(bytes);
  }
}

/** The offset of the first byte that does not belong to a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    const [n, lo, hi] = x < 0x80 ? [0, 0, 0] : x >= 0xc2 && x <= 0xdf ? [1, 0x80, 0xbf]
      : x === 0xe0 ? [2, 0xa0, 0xbf] : x === 0xed ? [2, 0x80, 0x9f] : x >= 0xe1 && x <= 0xef ? [2, 0x80, 0xbf]
      : x === 0xf0 ? [3, 0x90, 0xbf] : x === 0xf4 ? [3, 0x80, 0x8f] : x >= 0xf1 && x <= 0xf3 ? [3, 0x80, 0xbf]
      : [-1, 0, 0];
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const y = b[i + k];
      // The second byte has a narrower range for some leads (no overlongs, surrogates or > U+10FFFF).
      if (y === undefined || y < (k === 1 ? lo : 0x80) || y > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/** Reads and validates a workflow; returns errors too, for `wf validate`. */
export async function loadWorkflow(
  target: string,
  workflowsDir: string | undefined,
  cliVars: ReadonlySet<string>,
): Promise<Result<{ file: string; source: string; dag?: Dag; diagnostics: Diagnostic[] }, Failure>> {
  const found = await resolveWorkflowPath(target, workflowsDir);
  if (!found.ok) return found;
  const file = found.value;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const problem = fsProblem(e);
    if (problem === undefined) throw e;
    return err({ kind: "workflow-unreadable", file, problem });
  }
  const source = decodeUtf8(bytes);
  if (typeof source === "number") return err({ kind: "workflow-unreadable", file, problem: { invalidUtf8At: source } });
  const result = validateWorkflow(file, source, { cliVars });
  return ok({ file, source, ...(result.dag === undefined ? {} : { dag: result.dag }), diagnostics: result.diagnostics });
}

/** Like loadWorkflow, but any error stops the command (exit 2) with every problem listed. */
export async function loadForRun(target: string, workflowsDir: string | undefined, cliVars: ReadonlySet<string>): Promise<Result<Loaded, Failure>> {
  const read = await loadWorkflow(target, workflowsDir, cliVars);
  if (!read.ok) return read;
  const loaded = read.value;
  const errors = loaded.diagnostics.filter((d) => d.severity === "error");
  if (loaded.dag === undefined || errors.length > 0) {
    return err({ kind: "invalid-workflow", file: loaded.file, diagnostics: errors, sources: new Map([[loaded.file, loaded.source]]) });
  }
  return ok({ ...loaded, dag: loaded.dag });
}
