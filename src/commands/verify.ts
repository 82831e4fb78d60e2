/**
 * `wf verify <run>`: checks a journal line by line: framing, JSON, CRC,
 * schema, contiguous `seq`, one run id, and the order of events
 * (journal/order.ts). Reports the first bad line with its number and byte
 * offset. Takes a run id prefix, or the path of a journal kept elsewhere.
 */
import { stat } from "node:fs/promises";
import type { Io } from "../platform/io.ts";
import { verifyJournal } from "../journal/order.ts";
import { readJournalBytes } from "../runs/open.ts";
import { resolveRunId, runPaths } from "../runs/paths.ts";
import type { Failure, Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { inert, jsonText } from "../report/inert.ts";

/** A run id prefix, or a path to a journal file (for a copy kept elsewhere). */
async function journalPathOf(stateDir: () => Result<string, Failure>, target: string): Promise<Result<{ path: string; runId?: string }, Failure>> {
  if (target.includes("/") || target.endsWith(".jsonl")) {
    const st = await stat(target).catch(() => undefined);
    if (st?.isFile()) return ok({ path: target });
    if (target.includes("/")) return err({ kind: "fs", action: "read journal", path: target, problem: "missing" });
  }
  const dir = stateDir();
  if (!dir.ok) return dir;
  const id = resolveRunId(dir.value, target);
  if (!id.ok) return id;
  return ok({ path: runPaths(dir.value, id.value).journal, runId: id.value });
}

export async function verifyCommand(
  stateDir: () => Result<string, Failure>,
  target: string,
  opts: { json: boolean },
  io: Io,
): Promise<Outcome> {
  const out = io.out;
  const where = await journalPathOf(stateDir, target);
  if (!where.ok) return where;
  const { path, runId } = where.value;
  const bytes = await readJournalBytes(path);
  if (!bytes.ok) {
    if (runId !== undefined) return err({ kind: "run-unusable", action: "verify", runId, problem: bytes.error });
    return err({ kind: "fs", action: "read journal", path, problem: bytes.error.kind === "fs" ? bytes.error.problem : "missing" });
  }
  const v = verifyJournal(bytes.value);
  if (opts.json) {
    out(`${jsonText({
      path, kind: v.kind, valid: v.kind !== "corrupt", lines: v.lines,
      torn: v.kind === "torn" ? { offset: v.goodBytes, bytes: v.tornBytes } : null,
      problem: v.kind === "corrupt" ? { line: v.line, offset: v.offset, reason: v.reason } : null,
    }, 2)}\n`);
    return ok(v.kind === "corrupt" ? 1 : 0);
  }
  const lines = (n: number) => `${n} line${n === 1 ? "" : "s"}`;
  switch (v.kind) {
    case "clean":
      out(inert(`Journal "${path}" is valid: ${lines(v.lines)}\n`));
      return ok(0);
    case "torn":
      out(inert(`Journal "${path}" is valid up to line ${v.lines} (byte ${v.goodBytes}), then has a torn tail of ${v.tornBytes} bytes: an interrupted write, which wf resume cuts off\n`));
      return ok(0);
    case "corrupt":
      // The verdict of this command, printed as a failure so scripts see exit 1.
      return err({ kind: "journal-corrupt", path, line: v.line, offset: v.offset, reason: v.reason });
  }
}
