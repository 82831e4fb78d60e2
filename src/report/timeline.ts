/**
 * The timeline of a run, from its journal records: one row per task node, one
 * bar per attempt, the executions (the run and each resume) and the critical
 * path. Pure: the records, whether a live wf owns the run, and the time now
 * go in; `wf report` draws it as SVG and `wf show --timeline` with characters.
 *
 * An attempt runs from its task_started line to its task_finished line. One
 * with no finish is running (the run is live and this is its last execution)
 * until now, or was interrupted at the last record of its execution. A
 * result adopted by a resume (a detached job that ended while no wf ran) ends
 * at its start plus its journaled duration, not when the resume read it.
 */
import type { EventOf, JournalRecord, Mode } from "../journal/events.ts";

export type AttemptOutcome = "succeeded" | "failed" | "timed-out" | "cancelled" | "adopted" | "interrupted" | "running";

/** Every outcome, in the order legends list them. */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ["succeeded", "adopted", "failed", "timed-out", "cancelled", "interrupted", "running"];

export interface TimelineAttempt {
  readonly task: string;
  readonly attempt: number;
  /** Start and end, in milliseconds since the epoch. */
  readonly start: number;
  readonly end: number;
  readonly outcome: AttemptOutcome;
  /** The execution (0 for the run, then each resume) it started in. */
  readonly execution: number;
  /** Its task_started line, absent when it failed before it could start. */
  readonly started?: EventOf<"task_started">;
  readonly finished?: EventOf<"task_finished">;
  /** A resume adopted its result from a job that ended while no wf ran. */
  readonly adopted: boolean;
}

/** A task that did not run in an execution: skipped (its `if`) or cancelled. */
export interface TimelineMark {
  readonly kind: "skipped" | "cancelled";
  readonly at: number;
  readonly reason: string;
  readonly execution: number;
}

export interface TimelineRow {
  /** The node id; a forensic task's row has its own task id. */
  readonly id: string;
  /** For a forensic task: the failed task it served, or `*` for the workflow. */
  readonly forensicFor?: string;
  readonly deps: readonly string[];
  readonly attempts: TimelineAttempt[];
  readonly marks: TimelineMark[];
  /** On the critical path. */
  critical: boolean;
}

export type ExecutionStatus = "success" | "failed" | "cancelled" | "interrupted" | "running";

export interface Execution {
  readonly index: number;
  readonly start: number;
  end: number;
  status: ExecutionStatus;
  reason?: string;
  readonly mode: Mode;
  readonly maxParallel: number;
  readonly cwd?: string;
}

export interface Timeline {
  /** First and last instants drawn. */
  readonly start: number;
  readonly end: number;
  /** Task nodes in graph order (then any a resume added), then forensic tasks. */
  readonly rows: readonly TimelineRow[];
  readonly executions: readonly Execution[];
  /** Node ids, first to last: the chain of tasks that the run's end waited on. */
  readonly criticalPath: readonly string[];
  readonly summary: TimelineSummary;
}

export interface TimelineSummary {
  /** Every attempt's time added up. */
  readonly taskMs: number;
  /** From the first start to the last end. */
  readonly wallMs: number;
  /** The executions' time added up (wall time less the waits between them). */
  readonly executionMs: number;
  /** taskMs / executionMs: how many tasks ran at once on average. */
  readonly parallelism: number;
  readonly attempts: number;
  /** The critical path's length: the time its tasks' attempts took. */
  readonly criticalMs: number;
  /** Rows by their attempts' time, longest first (at most 10). */
  readonly longest: readonly { readonly id: string; readonly ms: number; readonly attempts: number }[];
}

function isAdopted(f: EventOf<"task_finished">): boolean {
  return f.adopted === true;
}

function outcomeOf(f: EventOf<"task_finished">, cancelledExecution: boolean): AttemptOutcome {
  if (isAdopted(f) && f.state === "succeeded") return "adopted";
  if (f.state === "succeeded") return "succeeded";
  if (f.timed_out) return "timed-out";
  // Ended by a signal while its execution was being cancelled (SIGINT, --timeout): the stop, not the task, ended it.
  if (f.signal !== null && cancelledExecution) return "cancelled";
  return "failed";
}

interface OpenAttempt {
  readonly row: TimelineRow;
  readonly task: string;
  readonly attempt: number;
  readonly start: number;
  readonly execution: number;
  /** The last execution that watched it: the one it started in, or a resume that re-attached to its job. */
  watchedBy: number;
  readonly started?: EventOf<"task_started">;
}

const FINAL = new Set(["success", "failed", "cancelled"]);

/**
 * Builds the timeline of a journal's records (as read: header first).
 * `live`: a wf holds the run's lock, so unfinished attempts of its last
 * execution are running until `now`.
 */
export function buildTimeline(records: Iterable<JournalRecord>, opts: { live: boolean; now: number }): Timeline {
  const builder = new TimelineBuilder();
  for (const r of records) builder.add(r);
  return builder.finish(opts);
}

/**
 * buildTimeline one record at a time, for a journal read as it is scanned
 * (`wf report`, `wf show --timeline`): add() each record in order, then
 * finish() once whether the run is live is known. Keeps the rows and
 * attempts, never the records.
 */
export class TimelineBuilder {
  private readonly rows: TimelineRow[] = [];
  private readonly byId = new Map<string, TimelineRow>();
  private readonly forensicRows = new Map<string, TimelineRow>();
  private readonly executions: Execution[] = [];
  private readonly open = new Map<string, OpenAttempt>();
  /** Finished attempts waiting for their execution's outcome to name a cancelled one. */
  private readonly pending: { open: OpenAttempt; finished: EventOf<"task_finished">; end: number }[] = [];
  private lastAt = Number.NaN;

  private rowOf(task: string, forensicFor?: string): TimelineRow {
    if (forensicFor !== undefined) {
      const key = `${task}\u0000${forensicFor}`;
      let row = this.forensicRows.get(key);
      if (row === undefined) {
        row = { id: task, forensicFor, deps: [], attempts: [], marks: [], critical: false };
        this.forensicRows.set(key, row);
      }
      return row;
    }
    let row = this.byId.get(task);
    if (row === undefined) {
      row = { id: task, deps: [], attempts: [], marks: [], critical: false };
      this.byId.set(task, row);
      this.rows.push(row);
    }
    return row;
  }

  private current(): Execution | undefined {
    return this.executions.at(-1);
  }

  /** Closes the current execution: its attempts' outcomes are known. */
  private settle(exec: Execution | undefined): void {
    const cancelled = exec?.status === "cancelled";
    for (const p of this.pending.splice(0)) push(p.open, p.end, outcomeOf(p.finished, cancelled), p.finished);
  }

  add(r: JournalRecord): void {
    const at = Date.parse(r.ts);
    if (r.type === "run_started") {
      for (const n of r.nodes) {
        if (this.byId.has(n.id)) continue;
        const row: TimelineRow = { id: n.id, deps: n.deps, attempts: [], marks: [], critical: false };
        this.byId.set(n.id, row);
        this.rows.push(row);
      }
      this.executions.push({ index: 0, start: at, end: at, status: "running", mode: r.mode, maxParallel: r.max_parallel, ...(r.cwd === undefined ? {} : { cwd: r.cwd }) });
    } else if (r.type === "run_status") {
      const exec = this.current();
      if (r.status === "resuming") {
        this.settle(exec);
        // An attempt still open stays so: a resume may adopt its result or wait for it; if none does, it was interrupted.
        if (exec !== undefined && exec.status === "running") exec.status = "interrupted";
        const prev = exec;
        const cwd = r.cwd ?? prev?.cwd;
        this.executions.push({
          index: this.executions.length, start: at, end: at, status: "running",
          mode: r.mode ?? prev?.mode ?? "sequential",
          maxParallel: r.max_parallel ?? prev?.maxParallel ?? 1,
          ...(cwd === undefined ? {} : { cwd }),
        });
      } else if (exec !== undefined && FINAL.has(r.status)) {
        exec.status = r.status as ExecutionStatus;
        if (r.reason !== undefined) exec.reason = r.reason;
        this.settle(exec);
      }
    } else if (r.type === "task_started") {
      const exec = this.current()?.index ?? 0;
      const row = this.rowOf(r.task, r.forensic_for);
      this.open.set(keyOf(r.task, r.attempt, r.forensic_for), { row, task: r.task, attempt: r.attempt, start: at, execution: exec, watchedBy: exec, started: r });
    } else if (r.type === "task_reattached") {
      // A resume waits for a job an earlier execution started: the attempt goes on in this execution.
      for (const o of this.open.values()) if (o.task === r.task && o.attempt === r.attempt) o.watchedBy = this.current()?.index ?? o.watchedBy;
    } else if (r.type === "task_finished") {
      const key = keyOf(r.task, r.attempt, r.forensic_for);
      const exec = this.current()?.index ?? 0;
      const o = this.open.get(key) ?? { row: this.rowOf(r.task, r.forensic_for), task: r.task, attempt: r.attempt, start: at, execution: exec, watchedBy: exec };
      this.open.delete(key);
      const end = isAdopted(r) ? Math.min(at, o.start + r.duration_ms) : at;
      this.pending.push({ open: o, finished: r, end });
    } else if (r.type === "task_skipped" || r.type === "task_cancelled") {
      // A resume journals each task that already succeeded as skipped: its bar says so already.
      if (r.type === "task_skipped" && r.reason === "already succeeded") return;
      this.rowOf(r.task).marks.push({ kind: r.type === "task_skipped" ? "skipped" : "cancelled", at, reason: r.reason, execution: this.current()?.index ?? 0 });
    }
    this.advance(at);
  }

  /** The latest time seen, and the current execution's end. */
  private advance(at: number): void {
    if (Number.isNaN(at)) return;
    this.lastAt = at;
    const exec = this.current();
    if (exec !== undefined) exec.end = Math.max(exec.end, at);
  }

  finish(opts: { live: boolean; now: number }): Timeline {
    const { rows, forensicRows, executions, open, byId } = this;
    const last = this.current();
    const liveEnd = opts.live && last !== undefined && last.status === "running";
    if (liveEnd) last.end = Math.max(last.end, opts.now);
    this.settle(last);
    for (const o of open.values()) {
      const runningNow = liveEnd && o.watchedBy === last.index;
      push(o, runningNow ? opts.now : (executions[o.watchedBy]?.end ?? this.lastAt), runningNow ? "running" : "interrupted");
    }
    if (last !== undefined && last.status === "running" && !opts.live) last.status = "interrupted";
    for (const row of [...rows, ...forensicRows.values()]) row.attempts.sort((a, b) => a.start - b.start || a.attempt - b.attempt);

    const all = [...rows, ...forensicRows.values()];
    const criticalPath = findCriticalPath(rows);
    const onPath = new Set(criticalPath);
    for (const row of rows) row.critical = onPath.has(row.id);
    const start = executions[0]?.start ?? this.lastAt;
    let end = start;
    for (const e of executions) end = Math.max(end, e.end);
    for (const row of all) for (const a of row.attempts) end = Math.max(end, a.end);
    return { start, end, rows: all, executions, criticalPath, summary: summarise(all, executions, start, end, criticalPath, byId) };
  }
}

const keyOf = (task: string, attempt: number, forensicFor?: string) => `${task}\u0000${attempt}\u0000${forensicFor ?? ""}`;

function push(o: OpenAttempt, end: number, outcome: AttemptOutcome, finished?: EventOf<"task_finished">): void {
  o.row.attempts.push({
    task: o.task,
    attempt: o.attempt,
    start: o.start,
    end: Math.max(o.start, end),
    outcome,
    execution: o.execution,
    ...(o.started === undefined ? {} : { started: o.started }),
    ...(finished === undefined ? {} : { finished }),
    adopted: finished !== undefined && isAdopted(finished),
  });
}

function rowMs(row: TimelineRow): number {
  let ms = 0;
  for (const a of row.attempts) ms += a.end - a.start;
  return ms;
}

/**
 * The chain the run's end waited on: the task that ended last, then, among
 * its dependencies, the one that ended last, and so on. A dependency that
 * never ran (skipped, cancelled) passes the walk on to its own dependencies.
 */
export function findCriticalPath(rows: readonly TimelineRow[]): string[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const endOf = (r: TimelineRow): number => r.attempts.at(-1)?.end ?? Number.NEGATIVE_INFINITY;
  /** The dependencies of `id` that ran, looking through those that did not. */
  const ranDeps = (id: string): TimelineRow[] => {
    const found: TimelineRow[] = [];
    const seen = new Set<string>();
    const stack = [...(byId.get(id)?.deps ?? [])];
    while (stack.length > 0) {
      const dep = stack.pop()!;
      if (seen.has(dep)) continue;
      seen.add(dep);
      const row = byId.get(dep);
      if (row === undefined) continue;
      if (row.attempts.length > 0) found.push(row);
      else stack.push(...row.deps);
    }
    return found;
  };
  const latest = (candidates: readonly TimelineRow[]): TimelineRow | undefined => {
    let best: TimelineRow | undefined;
    for (const r of candidates) if (r.attempts.length > 0 && (best === undefined || endOf(r) > endOf(best))) best = r;
    return best;
  };
  const path: string[] = [];
  const visited = new Set<string>();
  for (let row = latest(rows); row !== undefined && !visited.has(row.id); row = latest(ranDeps(row.id))) {
    visited.add(row.id);
    path.push(row.id);
  }
  return path.reverse();
}

function summarise(
  rows: readonly TimelineRow[],
  executions: readonly Execution[],
  start: number,
  end: number,
  criticalPath: readonly string[],
  nodes: ReadonlyMap<string, TimelineRow>,
): TimelineSummary {
  let taskMs = 0;
  let attempts = 0;
  for (const row of rows) {
    taskMs += rowMs(row);
    attempts += row.attempts.length;
  }
  let executionMs = 0;
  for (const e of executions) executionMs += Math.max(0, e.end - e.start);
  let criticalMs = 0;
  for (const id of criticalPath) criticalMs += rowMs(nodes.get(id)!);
  const longest = rows
    .filter((r) => r.attempts.length > 0)
    .map((r) => ({ id: r.forensicFor === undefined ? r.id : `${r.id} (for ${r.forensicFor === "*" ? "the workflow" : r.forensicFor})`, ms: rowMs(r), attempts: r.attempts.length }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 10);
  return {
    taskMs,
    wallMs: Math.max(0, end - start),
    executionMs,
    parallelism: executionMs > 0 ? taskMs / executionMs : 0,
    attempts,
    criticalMs,
    longest,
  };
}

/** One stretch of the axis drawn at full scale: an execution, or several that overlap. */
export interface AxisSpan {
  readonly from: number;
  readonly to: number;
  /** Where it starts on the axis, in the caller's units. */
  readonly x: number;
  readonly width: number;
}

/**
 * Maps wall-clock time to a position on an axis `width` long. The executions
 * are drawn at one scale; a wait between two of them longer than a twentieth
 * of their time is drawn `gap` wide instead (a resume the next morning would
 * otherwise squeeze the run into a sliver), and listed in `breaks`.
 */
export class TimeScale {
  readonly spans: readonly AxisSpan[];
  /** Positions where the axis skips a wait, and the time it skips. */
  readonly breaks: readonly { readonly x: number; readonly from: number; readonly to: number }[];

  constructor(t: Pick<Timeline, "start" | "end" | "executions">, readonly width: number, gap: number) {
    const stretches = mergedStretches(t);
    const active = stretches.reduce((sum, s) => sum + (s.to - s.from), 0);
    // Waits short against the run's own time stay at scale, as part of the stretch before them.
    const merged: { from: number; to: number }[] = [];
    for (const s of stretches) {
      const prev = merged.at(-1);
      if (prev !== undefined && s.from - prev.to <= Math.max(active / 20, 1000)) prev.to = Math.max(prev.to, s.to);
      else merged.push({ ...s });
    }
    const gaps = merged.length - 1;
    const total = merged.reduce((sum, s) => sum + (s.to - s.from), 0);
    const drawable = Math.max(1, width - gaps * gap);
    const spans: AxisSpan[] = [];
    const breaks: { x: number; from: number; to: number }[] = [];
    let x = 0;
    merged.forEach((s, i) => {
      if (i > 0) {
        breaks.push({ x, from: merged[i - 1]!.to, to: s.from });
        x += gap;
      }
      const w = total > 0 ? ((s.to - s.from) / total) * drawable : drawable / merged.length;
      spans.push({ from: s.from, to: s.to, x, width: w });
      x += w;
    });
    this.spans = spans;
    this.breaks = breaks;
  }

  /** The position of instant `ms` (clamped to the axis). */
  x(ms: number): number {
    const spans = this.spans;
    if (spans.length === 0) return 0;
    const first = spans[0]!;
    if (ms <= first.from) return first.x;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i]!;
      if (ms <= s.to) {
        if (ms < s.from) return s.x; // In a skipped wait: at the start of the stretch after it.
        return s.to === s.from ? s.x : s.x + ((ms - s.from) / (s.to - s.from)) * s.width;
      }
    }
    const last = spans.at(-1)!;
    return last.x + last.width;
  }
}

/** The executions' stretches of time, sorted, overlapping ones merged; the whole timeline when there is none. */
function mergedStretches(t: Pick<Timeline, "start" | "end" | "executions">): { from: number; to: number }[] {
  const sorted = [...t.executions].map((e) => ({ from: e.start, to: e.end })).sort((a, b) => a.from - b.from);
  const out: { from: number; to: number }[] = [];
  for (const s of sorted) {
    const prev = out.at(-1);
    if (prev !== undefined && s.from <= prev.to) prev.to = Math.max(prev.to, s.to);
    else out.push({ ...s });
  }
  if (out.length === 0) return [{ from: t.start, to: t.end }];
  // Attempts that end after their execution (a running one) stretch the last stretch.
  out.at(-1)!.to = Math.max(out.at(-1)!.to, t.end);
  return out;
}
