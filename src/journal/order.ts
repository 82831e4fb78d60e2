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
import { type Classification, classifyJournal, type RecordSink, type Scan, scanJournal } from "./reader.ts";

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
  const order = new OrderCheck();
  for (let i = 0; i < records.length; i++) {
    const problem = order.next(records[i]!);
    if (problem !== undefined) return { index: i, reason: problem };
  }
  return undefined;
}

type Phase = "header" | "created" | "executing" | "ended";

/**
 * verifyOrder one record at a time: feed every record from the header on to
 * next(), which says why the record cannot come at its place, if it cannot.
 * After a problem the state is not meaningful; stop there.
 */
export class OrderCheck {
  #seen = 0;
  #phase: Phase = "header";
  #finalStatus = "";
  /** Each task's attempts so far, by id. */
  readonly #tasks = new Map<string, TaskAttempts>();
  /** The tasks with an open attempt; all are closed when a resume begins. */
  readonly #open = new Set<TaskAttempts>();
  /** The task looked up last: an attempt's lines come one after the other, so it is often the next one's too. */
  #last: TaskAttempts | undefined;

  /** Why `r` cannot follow the records fed before it, or undefined when it can. The first record (the header) is not checked. */
  next(r: JournalRecord): string | undefined {
    if (this.#seen++ === 0) return undefined;
    if (HOUSEKEEPING.has(r.type)) return undefined;
    if (r.type === "run_started") {
      if (this.#phase !== "header") return "a second run_started line";
      this.#phase = "created";
      return undefined;
    }
    if (this.#phase === "header") return `a "${r.type}" line before run_started`;
    if (r.type === "run_status") {
      if (r.status === "resuming") {
        // An attempt left open may be re-attached or adopted by this execution, and by no later one.
        for (const t of this.#open) {
          t.leftOpen = t.open;
          t.open = 0;
        }
        this.#open.clear();
        this.#phase = "executing";
      } else if (r.status === "running") {
        if (this.#phase === "ended") return `status "running" after the final status "${this.#finalStatus}" (only a resume may follow)`;
        this.#phase = "executing";
      } else if (FINAL.has(r.status)) {
        if (this.#phase === "created") return `final status "${r.status}" before the run was running`;
        if (this.#phase === "ended") return `a second final status "${r.status}" after "${this.#finalStatus}" (only a resume may follow)`;
        this.#phase = "ended";
        this.#finalStatus = r.status;
      }
      return undefined;
    }
    if (this.#phase === "ended") return `a "${r.type}" line after the final status "${this.#finalStatus}" (only a resume may follow)`;
    if (this.#phase === "created") return `a "${r.type}" line before the status "running"`;
    switch (r.type) {
      case "task_started": {
        const t = this.#task(r.task);
        if (t.open !== 0) return `task_started for "${r.task}" attempt ${r.attempt} while attempt ${t.open} has not finished`;
        if (r.attempt <= t.last) return `task_started for "${r.task}" attempt ${r.attempt} after attempt ${t.last}`;
        t.open = r.attempt;
        t.last = r.attempt;
        t.leftOpen = 0;
        this.#open.add(t);
        return undefined;
      }
      case "task_reattached": {
        const t = this.#task(r.task);
        if (t.open !== 0 || t.leftOpen !== r.attempt) return `task_reattached for "${r.task}" attempt ${r.attempt}, which an earlier execution did not leave running`;
        t.open = r.attempt;
        t.leftOpen = 0;
        this.#open.add(t);
        return undefined;
      }
      case "task_spawned": {
        const t = this.#task(r.task);
        if (t.open === 0 || t.open !== r.attempt) return `task_spawned for "${r.task}" attempt ${r.attempt}, which has not started`;
        if ((r.pid === undefined) === (r.job_id === undefined)) return `task_spawned for "${r.task}" attempt ${r.attempt} with ${r.pid === undefined ? "neither a pid nor" : "both a pid and"} a job id`;
        return undefined;
      }
      case "task_finished": {
        const t = this.#task(r.task);
        if (t.open !== 0 && t.open === r.attempt) {
          t.open = 0;
          this.#open.delete(t);
          return undefined;
        }
        // A result adopted from a job that ended while no wf watched it, or an attempt a resume found
        // without a result (its command never ran, or its outcome is unknown): failed, no exit status.
        const lost = r.state === "failed" && r.exit_code === null && r.signal === null;
        if ((r.adopted === true || lost) && t.open === 0 && t.leftOpen === r.attempt) {
          t.leftOpen = 0;
          return undefined;
        }
        // A task that failed before its command could start (a missing variable) has no task_started.
        if (r.state === "failed" && r.exit_code === null && r.attempt > t.last && t.open === 0) {
          t.last = r.attempt;
          return undefined;
        }
        return `task_finished for "${r.task}" attempt ${r.attempt}, which has not started`;
      }
      case "task_skipped":
      case "task_cancelled": {
        // Nothing is open in most of a resume: no lookup then.
        if (this.#open.size === 0) return undefined;
        const t = this.#task(r.task);
        if (t.open !== 0) return `${r.type} for "${r.task}" while its attempt ${t.open} is running`;
        return undefined;
      }
      case "var_registered":
      case "header":
        return undefined;
    }
  }

  #task(id: string): TaskAttempts {
    const last = this.#last;
    if (last !== undefined && last.id === id) return last;
    let t = this.#tasks.get(id);
    if (t === undefined) {
      t = { id, open: 0, last: 0, leftOpen: 0 };
      this.#tasks.set(id, t);
    }
    this.#last = t;
    return t;
  }
}

/**
 * What the order check knows of one task: its open attempt (0: none), its last
 * attempt (0: none yet), and the attempt the previous execution left open,
 * which this one may re-attach or adopt (0: none).
 */
interface TaskAttempts {
  readonly id: string;
  open: number;
  last: number;
  leftOpen: number;
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

/**
 * checkJournal one record at a time, keeping none: `onRecord` gets each record
 * that is intact and in order, as it is read. The verdict is checkJournal's,
 * with the number of records in place of the records: a corrupt line anywhere
 * wins over an event out of order before it, as in checkJournal. Only after a
 * clean or torn verdict are the records `onRecord` saw the journal's.
 */
export function scanCheckedJournal(bytes: Uint8Array, onRecord: RecordSink): Verdict {
  const checked = orderChecked(onRecord);
  return checked.verdict(scanJournal(bytes, checked.sink));
}

/**
 * The order check between a scan and `onRecord`, for a scan fed piece by
 * piece (JournalScan): give the scan `sink`, then its answer to verdict(),
 * which returns scanCheckedJournal's.
 */
export function orderChecked(onRecord: RecordSink): { sink: RecordSink; verdict: (scan: Scan) => Verdict } {
  const order = new OrderCheck();
  let problem: { index: number; offset: number; reason: string } | undefined;
  let index = 0;
  const sink: RecordSink = (r, offset) => {
    if (problem === undefined) {
      const reason = order.next(r);
      if (reason === undefined) onRecord(r, offset);
      else problem = { index, offset, reason };
    }
    index++;
  };
  const verdict = (scan: Scan): Verdict => {
    if (scan.kind === "corrupt" || problem === undefined) return scan;
    return { kind: "corrupt", lines: problem.index, line: problem.index + 1, offset: problem.offset, reason: problem.reason };
  };
  return { sink, verdict };
}

/** Pure: the verdict on a journal's bytes, as `wf verify` reports it. */
export function verifyJournal(bytes: Uint8Array): Verdict {
  const v = scanCheckedJournal(bytes, () => {});
  // No intact header: every other command refuses such a journal (empty, or cut off while being created), so verify does too.
  if (v.kind !== "corrupt" && v.lines === 0) return { kind: "corrupt", lines: 0, line: 1, offset: 0, reason: "it has no intact header line: the run was cut off while being created" };
  return v;
}
