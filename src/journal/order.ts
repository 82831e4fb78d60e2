/**
 * The order of events a correct writer produces (the journal's grammar), and
 * checkJournal(): classification (framing, CRC, schema, seq) plus this order.
 * Every reader of a run goes through checkJournal, so a journal is usable by
 * every command or by none.
 *
 * Phases of a run, as the order check follows them:
 *
 *   header ──run_started──> created ──running──> executing ──success|failed|cancelled──> ended
 *                                                    ^                                     │
 *                                                    └──────────────resuming───────────────┘
 *   (resuming also follows an execution that ended without a status: a crash)
 */
import type { JournalRecord } from "./events.ts";
import { type Classification, classifyJournal } from "./reader.ts";

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

/**
 * Pure: classifies a journal's bytes (clean, torn tail, corrupt) and checks
 * the order of its events; an event out of order makes it corrupt at that line.
 */
export function checkJournal(bytes: Uint8Array): Classification {
  const c = classifyJournal(bytes);
  if (c.kind === "corrupt") return c;
  const problem = verifyOrder(c.records);
  if (problem === undefined) return c;
  const offset = lineOffsets(bytes)[problem.index] ?? 0;
  return { kind: "corrupt", line: problem.index + 1, offset, reason: problem.reason, records: c.records.slice(0, problem.index) };
}

/** Pure: the verdict on a journal's bytes, as `wf verify` reports it. */
export function verifyJournal(bytes: Uint8Array): Verdict {
  const c = checkJournal(bytes);
  if (c.kind === "corrupt") return { kind: "corrupt", lines: c.records.length, line: c.line, offset: c.offset, reason: c.reason };
  // No intact header: every other command refuses such a journal (empty, or cut off while being created), so verify does too.
  if (c.records.length === 0) return { kind: "corrupt", lines: 0, line: 1, offset: 0, reason: "it has no intact header line: the run was cut off while being created" };
  return c.kind === "torn"
    ? { kind: "torn", lines: c.records.length, goodBytes: c.goodBytes, tornBytes: c.tornBytes }
    : { kind: "clean", lines: c.records.length };
}

