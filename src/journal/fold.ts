/**
 * The fold: a pure function from journal records to the run's state. Resume
 * starts from it; `wf show`, `wf runs` and `wf diff` print it.
 *
 * A task's state is decided by its latest outcome record. A start with no
 * finish after it is `running` while the run is live and `interrupted` once
 * nobody owns it (the caller says which with `live`).
 */
import { unreachable } from "../util/unreachable.ts";
import type { EventOf, JournalRecord, Mode, RunStatusValue } from "./events.ts";

export type TaskState = "pending" | "running" | "interrupted" | "succeeded" | "failed" | "skipped" | "cancelled";

export interface AttemptState {
  readonly attempt: number;
  readonly startedAt: string;
  readonly cmd: string;
  readonly stdoutLog: string;
  readonly stderrLog: string;
  /** The job's status file, relative to the run's folder (absent in journals written before detached jobs). */
  readonly statusFile?: string;
  /** Where the attempt ran: `slurm` for a Slurm job (`task_started` says `local` by leaving it out). */
  readonly executor?: "slurm";
  pid?: number;
  /** A Slurm job's id, once journaled. */
  jobId?: string;
  /** With pid: the job's identity, when the journal has it. */
  procStart?: number;
  bootId?: string;
  /** A resume re-attached to its job. */
  reattached?: boolean;
  finishedAt?: string;
  finished?: EventOf<"task_finished">;
}

export interface TaskFold {
  readonly id: string;
  state: TaskState;
  /** Why it was skipped or cancelled, or the failure's message. */
  reason?: string;
  /** The failure was forgiven by `ignore_failure`. */
  ignored: boolean;
  readonly attempts: AttemptState[];
}

export interface ForensicFold {
  readonly task: string;
  /** The failed task it served, or `*` for the workflow. */
  readonly target: string;
  readonly attempt: AttemptState;
}

export interface RunState {
  readonly runId: string;
  readonly started: EventOf<"run_started"> & { ts: string };
  /** Every status change in order; the last is the current one. */
  readonly statuses: { status: RunStatusValue; ts: string; reason?: string }[];
  /** The last status, or `interrupted` when the last execution ended without one and nobody owns the run. */
  readonly status: RunStatusValue | "interrupted";
  /** The directory the latest execution's tasks ran in (a resume may change it); undefined for old journals. */
  readonly cwd?: string;
  /** The mode of the latest execution (a resume may change it). */
  readonly mode: Mode;
  readonly maxParallel: number;
  /** Normal task nodes, in the order the run started them (graph order). */
  readonly tasks: ReadonlyMap<string, TaskFold>;
  readonly forensic: readonly ForensicFold[];
  /** Each variable's most recent value and the task that registered it. */
  readonly vars: ReadonlyMap<string, { value: string; task: string; ts: string }>;
  /** The last attempt number journaled per task, forensic tasks included. */
  readonly lastAttempt: ReadonlyMap<string, number>;
  /** How many times the run was resumed. */
  readonly resumes: number;
  readonly startedAt: string;
  /** Time of the last final status, if the run ended. */
  readonly endedAt?: string;
  readonly lastRecordAt: string;
}

const FINAL: ReadonlySet<string> = new Set(["success", "failed", "cancelled"]);

/**
 * Folds a journal (as read: header first) into the run's state. `live` tells
 * whether a process still owns the run, so unfinished attempts are running
 * rather than interrupted. Returns an error sentence for a journal with no
 * `run_started`, which happens only when a crash hit during creation;
 * the sentence reads after `Cannot resume run "x": `.
 */
export function foldJournal(records: readonly JournalRecord[], live = false): { ok: true; value: RunState } | { ok: false; error: string } {
  const fold = new JournalFold();
  for (const r of records) fold.add(r);
  return fold.finish(live);
}

/** The state being built, once run_started is known. */
interface Folding {
  readonly started: EventOf<"run_started"> & { ts: string };
  /** Normal tasks in graph order, then any a resume added; RunState's `tasks` is built from them. */
  readonly order: TaskFold[];
  /** Each task's place in `order`. */
  readonly position: Map<string, number>;
  /** The place in `order` of the task found last: see taskAt. */
  cursor: number;
  readonly forensic: ForensicFold[];
  readonly vars: Map<string, { value: string; task: string; ts: string }>;
  readonly lastAttempt: Map<string, number>;
  readonly statuses: { status: RunStatusValue; ts: string; reason?: string }[];
  mode: Mode;
  maxParallel: number;
  cwd: string | undefined;
  resumes: number;
  endedAt: string | undefined;
}

/**
 * foldJournal one record at a time: add() each record as it is read, then
 * finish() once. It keeps the fold, not the records, so a million-line
 * journal is folded without holding a million records. The records before
 * `run_started` (the header, housekeeping) are kept until it comes, then
 * folded in order, so the result is foldJournal's for any sequence.
 */
export class JournalFold {
  #header: JournalRecord | undefined;
  #lastRecordAt = "";
  /** Records seen before run_started. */
  #early: JournalRecord[] = [];
  #s: Folding | undefined;

  add(r: JournalRecord): void {
    this.#header ??= r;
    this.#lastRecordAt = r.ts;
    if (this.#s !== undefined) {
      apply(this.#s, r);
      return;
    }
    if (r.type !== "run_started") {
      this.#early.push(r);
      return;
    }
    const s = begin(r as EventOf<"run_started"> & { ts: string });
    this.#s = s;
    for (const e of this.#early) apply(s, e);
    this.#early = [];
    apply(s, r);
  }

  /** The run's state after every record added; see foldJournal. */
  finish(live: boolean): { ok: true; value: RunState } | { ok: false; error: string } {
    const header = this.#header;
    const s = this.#s;
    if (header === undefined || s === undefined) {
      const what = header === undefined ? "its journal is empty" : "its journal has no run_started line";
      return { ok: false, error: `${what}: the run was cut off while being created, before any task started` };
    }
    const last = s.statuses.at(-1);
    const ended = last !== undefined && FINAL.has(last.status);
    if (!ended && !live) {
      for (const t of s.order) if (t.state === "running") t.state = "interrupted";
    }
    const status: RunState["status"] = ended ? last.status : live ? (last?.status ?? "running") : "interrupted";
    return {
      ok: true,
      value: {
        runId: header.run,
        started: s.started,
        statuses: s.statuses,
        status,
        mode: s.mode,
        maxParallel: s.maxParallel,
        ...(s.cwd === undefined ? {} : { cwd: s.cwd }),
        tasks: new Map(s.order.map((t) => [t.id, t])),
        forensic: s.forensic,
        vars: s.vars,
        lastAttempt: s.lastAttempt,
        resumes: s.resumes,
        startedAt: s.started.ts,
        ...(ended && s.endedAt !== undefined ? { endedAt: s.endedAt } : {}),
        lastRecordAt: this.#lastRecordAt,
      },
    };
  }
}

function begin(started: EventOf<"run_started"> & { ts: string }): Folding {
  const s: Folding = {
    started,
    order: [],
    position: new Map(),
    cursor: 0,
    forensic: [],
    vars: new Map(),
    lastAttempt: new Map(),
    statuses: [],
    mode: started.mode,
    maxParallel: started.max_parallel,
    cwd: started.cwd,
    resumes: 0,
    endedAt: undefined,
  };
  for (const node of started.nodes) if (!s.position.has(node.id)) addTask(s, node.id);
  return s;
}

function addTask(s: Folding, id: string): TaskFold {
  const t: TaskFold = { id, state: "pending", ignored: false, attempts: [] };
  s.position.set(id, s.order.length);
  s.order.push(t);
  return t;
}

/**
 * The task `id`, if the run has it. Records mostly follow the graph's order
 * (a resume skips the tasks that succeeded one after the other; an attempt's
 * lines come together), so the task found last and the one after it are
 * tried first: most records then need no hash of their task id.
 */
function taskAt(s: Folding, id: string): TaskFold | undefined {
  const here = s.order[s.cursor];
  if (here !== undefined && here.id === id) return here;
  const next = s.order[s.cursor + 1];
  if (next !== undefined && next.id === id) {
    s.cursor++;
    return next;
  }
  const at = s.position.get(id);
  if (at === undefined) return undefined;
  s.cursor = at;
  return s.order[at];
}

function taskOf(s: Folding, id: string): TaskFold {
  // Not found: a node added by a resume of a changed workflow (with --force).
  return taskAt(s, id) ?? addTask(s, id);
}

function attemptOf(s: Folding, task: string, attempt: number, forensicFor?: string): AttemptState | undefined {
  if (forensicFor !== undefined) {
    return s.forensic.findLast((f) => f.task === task && f.attempt.attempt === attempt)?.attempt;
  }
  return taskAt(s, task)?.attempts.findLast((a) => a.attempt === attempt);
}

/** Folds one record into `s`. */
function apply(s: Folding, r: JournalRecord): void {
  switch (r.type) {
    case "header":
    case "run_started":
    case "recovered":
    case "lock_taken_over":
    case "orphan_killed":
      break;
    case "run_status":
      s.statuses.push({ status: r.status, ts: r.ts, ...(r.reason === undefined ? {} : { reason: r.reason }) });
      if (r.status === "resuming") {
        s.resumes++;
        if (r.mode !== undefined) s.mode = r.mode;
        if (r.max_parallel !== undefined) s.maxParallel = r.max_parallel;
        if (r.cwd !== undefined) s.cwd = r.cwd;
        s.endedAt = undefined;
        // Whatever was running when the previous execution stopped did not finish.
        for (const t of s.order) if (t.state === "running") t.state = "interrupted";
      }
      if (FINAL.has(r.status)) s.endedAt = r.ts;
      break;
    case "task_started": {
      s.lastAttempt.set(r.task, Math.max(s.lastAttempt.get(r.task) ?? 0, r.attempt));
      const attempt: AttemptState = {
        attempt: r.attempt, startedAt: r.ts, cmd: r.cmd, stdoutLog: r.stdout_log, stderrLog: r.stderr_log,
        ...(r.status_file === undefined ? {} : { statusFile: r.status_file }),
        ...(r.executor === "slurm" ? { executor: "slurm" as const } : {}),
      };
      if (r.forensic_for !== undefined) {
        s.forensic.push({ task: r.task, target: r.forensic_for, attempt });
      } else {
        const t = taskOf(s, r.task);
        t.attempts.push(attempt);
        t.state = "running";
        delete t.reason;
      }
      break;
    }
    case "task_spawned": {
      const a = attemptOf(s, r.task, r.attempt) ?? s.forensic.findLast((f) => f.task === r.task)?.attempt;
      if (a !== undefined) {
        if (r.pid !== undefined) a.pid = r.pid;
        if (r.job_id !== undefined) a.jobId = r.job_id;
        if (r.proc_start !== undefined) a.procStart = r.proc_start;
        if (r.boot_id !== undefined) a.bootId = r.boot_id;
      }
      break;
    }
    case "task_reattached": {
      const a = attemptOf(s, r.task, r.attempt);
      if (a !== undefined) a.reattached = true;
      const t = taskOf(s, r.task);
      t.state = "running";
      break;
    }
    case "task_finished": {
      s.lastAttempt.set(r.task, Math.max(s.lastAttempt.get(r.task) ?? 0, r.attempt));
      const a = attemptOf(s, r.task, r.attempt, r.forensic_for);
      if (a !== undefined) {
        a.finished = r;
        a.finishedAt = r.ts;
      }
      if (r.forensic_for !== undefined) break;
      const t = taskOf(s, r.task);
      if (a === undefined) {
        // Failed before it could start (a variable nobody set): no task_started line.
        t.attempts.push({ attempt: r.attempt, startedAt: r.ts, cmd: "", stdoutLog: "", stderrLog: "", finished: r, finishedAt: r.ts });
      }
      if (r.will_retry) {
        t.state = "running";
      } else {
        t.state = r.state;
        t.ignored = r.ignored;
        if (r.error === undefined) delete t.reason;
        else t.reason = r.error;
      }
      break;
    }
    case "task_skipped": {
      const t = taskOf(s, r.task);
      // A resume journals tasks that already succeeded as skipped: they stay succeeded.
      if (t.state !== "succeeded") {
        t.state = "skipped";
        t.reason = r.reason;
      }
      break;
    }
    case "task_cancelled": {
      const t = taskOf(s, r.task);
      t.state = "cancelled";
      t.reason = r.reason;
      break;
    }
    case "var_registered":
      s.vars.set(r.name, { value: r.value, task: r.task, ts: r.ts });
      break;
    default:
      return unreachable(r);
  }
}
