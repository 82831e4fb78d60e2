/**
 * `wf verify <run>`: checks a journal line by line: framing, JSON, CRC,
 * schema, contiguous `seq`, one run id (classifyJournal), then whether the
 * events come in an order a writer can produce (verifyOrder). Reports the
 * first bad line with its number and byte offset.
 *
 * Phases of a run, as the order check follows them:
 *
 *   header ──run_started──> created ──running──> executing ──success|failed|cancelled──> ended
 *                                                    ^                                     │
 *                                                    └──────────────resuming───────────────┘
 *   (resuming also follows an execution that ended without a status: a crash)
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { JournalRecord } from "../journal/events.ts";
import { classifyJournal } from "../journal/reader.ts";
import { runIdOf } from "./lookup.ts";
import { runDir } from "../runs/paths.ts";
import { WfError } from "../util/result.ts";

/** The first event that is out of order: its index in `records` and why. */
export interface OrderProblem {
  readonly index: number;
  readonly reason: string;
}

const FINAL = new Set(["success", "failed", "cancelled"]);
/** Lines a resume writes before its `resuming` status; allowed in any phase after the header. */
const HOUSEKEEPING = new Set(["recovered", "lock_taken_over", "orphan_killed"]);

/** Pure: the first event that a correct writer could not have produced at its place, if any. */
export function verifyOrder(records: readonly JournalRecord[]): OrderProblem | undefined {
  type Phase = "header" | "created" | "executing" | "ended";
  let phase: Phase = "header";
  let finalStatus = "";
  /** Open attempts (started, not finished) by task; cleared when a resume begins. */
  const open = new Map<string, number>();
  const lastAttempt = new Map<string, number>();
  for (let i = 1; i < records.length; i++) {
    const r = records[i]!;
    const bad = (reason: string) => ({ index: i, reason });
    if (HOUSEKEEPING.has(r.type)) continue;
    if (r.type === "run_started") {
      if (phase !== "header") return bad("a second run_started line");
      phase = "created";
      continue;
    }
    if (phase === "header") return bad(`a "${r.type}" line before run_started`);
    if (r.type === "run_status") {
      if (r.status === "resuming") {
        open.clear();
        phase = "executing";
      } else if (r.status === "running") {
        if (phase === "ended") return bad(`status "running" after the final status "${finalStatus}" (only a resume may follow)`);
        phase = "executing";
      } else if (FINAL.has(r.status)) {
        if (phase === "created") return bad(`final status "${r.status}" before the run was running`);
        if (phase === "ended") return bad(`a second final status "${r.status}" after "${finalStatus}" (only a resume may follow)`);
        phase = "ended";
        finalStatus = r.status;
      }
      continue;
    }
    if (phase === "ended") return bad(`a "${r.type}" line after the final status "${finalStatus}" (only a resume may follow)`);
    if (phase === "created") return bad(`a "${r.type}" line before the status "running"`);
    switch (r.type) {
      case "task_started": {
        const running = open.get(r.task);
        if (running !== undefined) return bad(`task_started for "${r.task}" attempt ${r.attempt} while attempt ${running} has not finished`);
        const prev = lastAttempt.get(r.task) ?? 0;
        if (r.attempt <= prev) return bad(`task_started for "${r.task}" attempt ${r.attempt} after attempt ${prev}`);
        open.set(r.task, r.attempt);
        lastAttempt.set(r.task, r.attempt);
        break;
      }
      case "task_spawned":
        if (open.get(r.task) !== r.attempt) return bad(`task_spawned for "${r.task}" attempt ${r.attempt}, which has not started`);
        break;
      case "task_finished": {
        if (open.get(r.task) === r.attempt) {
          open.delete(r.task);
          break;
        }
        // A task that failed before its command could start (a missing variable) has no task_started.
        const prev = lastAttempt.get(r.task) ?? 0;
        if (r.state === "failed" && r.exit_code === null && r.attempt > prev && !open.has(r.task)) {
          lastAttempt.set(r.task, r.attempt);
          break;
        }
        return bad(`task_finished for "${r.task}" attempt ${r.attempt}, which has not started`);
      }
      case "task_skipped":
      case "task_cancelled":
        if (open.has(r.task)) return bad(`${r.type} for "${r.task}" while its attempt ${open.get(r.task)} is running`);
        break;
      case "var_registered":
      case "header":
        break;
    }
  }
  return undefined;
}

/** Byte offset of the start of each line. */
export function lineOffsets(bytes: Uint8Array): number[] {
  const offsets = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) offsets.push(i + 1);
  return offsets;
}

export type Verdict =
  | { readonly kind: "clean"; readonly lines: number }
  | { readonly kind: "torn"; readonly lines: number; readonly goodBytes: number; readonly tornBytes: number }
  | { readonly kind: "corrupt"; readonly lines: number; readonly line: number; readonly offset: number; readonly reason: string };

/** Pure: the verdict on a journal's bytes. */
export function verifyJournal(bytes: Uint8Array): Verdict {
  const c = classifyJournal(bytes);
  if (c.kind === "corrupt") return { kind: "corrupt", lines: c.records.length, line: c.line, offset: c.offset, reason: c.reason };
  const problem = verifyOrder(c.records);
  if (problem !== undefined) {
    const offset = lineOffsets(bytes)[problem.index] ?? 0;
    return { kind: "corrupt", lines: c.records.length, line: problem.index + 1, offset, reason: problem.reason };
  }
  return c.kind === "torn"
    ? { kind: "torn", lines: c.records.length, goodBytes: c.goodBytes, tornBytes: c.tornBytes }
    : { kind: "clean", lines: c.records.length };
}

/** A run id prefix, or a path to a journal file (for a copy kept elsewhere). */
async function journalPathOf(stateDir: () => string, target: string): Promise<string> {
  if (target.includes("/") || target.endsWith(".jsonl")) {
    const st = await stat(target).catch(() => undefined);
    if (st?.isFile()) return target;
    if (target.includes("/")) throw new WfError(`Cannot find journal "${target}": no such file`, 2);
  }
  const dir = stateDir();
  return join(runDir(dir, runIdOf(dir, target)), "journal.jsonl");
}

export async function verifyCommand(
  stateDir: () => string,
  target: string,
  opts: { json: boolean },
  out: (text: string) => void,
): Promise<number> {
  const path = await journalPathOf(stateDir, target);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new WfError(`Cannot read journal "${path}": ${(e as Error).message}`, 1);
  }
  const v = verifyJournal(bytes);
  if (opts.json) {
    out(`${JSON.stringify({
      path, kind: v.kind, valid: v.kind !== "corrupt", lines: v.lines,
      torn: v.kind === "torn" ? { offset: v.goodBytes, bytes: v.tornBytes } : null,
      problem: v.kind === "corrupt" ? { line: v.line, offset: v.offset, reason: v.reason } : null,
    }, null, 2)}\n`);
    return v.kind === "corrupt" ? 1 : 0;
  }
  const lines = (n: number) => `${n} line${n === 1 ? "" : "s"}`;
  switch (v.kind) {
    case "clean":
      out(`Journal "${path}" is valid: ${lines(v.lines)}\n`);
      return 0;
    case "torn":
      out(`Journal "${path}" is valid up to line ${v.lines} (byte ${v.goodBytes}), then has a torn tail of ${v.tornBytes} bytes: an interrupted write, which wf resume cuts off\n`);
      return 0;
    case "corrupt":
      throw new WfError(`Journal "${path}" is corrupt at line ${v.line} (byte ${v.offset}): ${v.reason}`, 1);
  }
}
