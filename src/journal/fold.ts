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
  pid?: number;
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
  const header = records[0];
  const startedRecord = records.find((r) => r.type === "run_started");
  if (header === undefined || startedRecord === undefined || startedRecord.type !== "run_started") {
    const what = header === undefined ? "its journal is empty" : "its journal has no run_started line";
    return { ok: false, error: `${what}: the run was cut off while being created, before any task started` };
  }
  const started = startedRecord;
  const tasks = new Map<string, TaskFold>();
  for (const node of started.nodes) tasks.set(node.id, { id: node.id, state: "pending", ignored: false, attempts: [] });
  const forensic: ForensicFold[] = [];
  const vars = new Map<string, { value: string; task: string; ts: string }>();
  const lastAttempt = new Map<string, number>();
  const statuses: { status: RunStatusValue; ts: string; reason?: string }[] = [];
  let mode: Mode = started.mode;
  let maxParallel = started.max_parallel;
  let resumes = 0;
  let endedAt: string | undefined;

  const taskOf = (id: string): TaskFold => {
    let t = tasks.get(id);
    if (t === undefined) {
      // A node added by a resume of a changed workflow (with --force).
      t = { id, state: "pending", ignored: false, attempts: [] };
      tasks.set(id, t);
    }
    return t;
  };
  const attemptOf = (task: string, attempt: number, forensicFor?: string): AttemptState | undefined => {
    if (forensicFor !== undefined) {
      return forensic.findLast((f) => f.task === task && f.attempt.attempt === attempt)?.attempt;
    }
    return tasks.get(task)?.attempts.findLast((a) => a.attempt === attempt);
  };

  for (const r of records) {
    switch (r.type) {
      case "header":
      case "run_started":
      case "recovered":
      case "lock_taken_over":
      case "orphan_killed":
        break;
      case "run_status":
        statuses.push({ status: r.status, ts: r.ts, ...(r.reason === undefined ? {} : { reason: r.reason }) });
        if (r.status === "resuming") {
          resumes++;
          if (r.mode !== undefined) mode = r.mode;
          if (r.max_parallel !== undefined) maxParallel = r.max_parallel;
          endedAt = undefined;
          // Whatever was running when the previous execution stopped did not finish.
          for (const t of tasks.values()) if (t.state === "running") t.state = "interrupted";
        }
        if (FINAL.has(r.status)) endedAt = r.ts;
        break;
      case "task_started": {
        lastAttempt.set(r.task, Math.max(lastAttempt.get(r.task) ?? 0, r.attempt));
        const attempt: AttemptState = {
          attempt: r.attempt, startedAt: r.ts, cmd: r.cmd, stdoutLog: r.stdout_log, stderrLog: r.stderr_log,
        };
        if (r.forensic_for !== undefined) {
          forensic.push({ task: r.task, target: r.forensic_for, attempt });
        } else {
          const t = taskOf(r.task);
          t.attempts.push(attempt);
          t.state = "running";
          delete t.reason;
        }
        break;
      }
      case "task_spawned": {
        const a = attemptOf(r.task, r.attempt) ?? forensic.findLast((f) => f.task === r.task)?.attempt;
        if (a !== undefined) a.pid = r.pid;
        break;
      }
      case "task_finished": {
        lastAttempt.set(r.task, Math.max(lastAttempt.get(r.task) ?? 0, r.attempt));
        const a = attemptOf(r.task, r.attempt, r.forensic_for);
        if (a !== undefined) {
          a.finished = r;
          a.finishedAt = r.ts;
        }
        if (r.forensic_for !== undefined) break;
        const t = taskOf(r.task);
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
        const t = taskOf(r.task);
        // A resume journals tasks that already succeeded as skipped: they stay succeeded.
        if (t.state !== "succeeded") {
          t.state = "skipped";
          t.reason = r.reason;
        }
        break;
      }
      case "task_cancelled": {
        const t = taskOf(r.task);
        t.state = "cancelled";
        t.reason = r.reason;
        break;
      }
      case "var_registered":
        vars.set(r.name, { value: r.value, task: r.task, ts: r.ts });
        break;
      default:
        return unreachable(r);
    }
  }

  const last = statuses.at(-1);
  const ended = last !== undefined && FINAL.has(last.status);
  if (!ended && !live) {
    for (const t of tasks.values()) if (t.state === "running") t.state = "interrupted";
  }
  const status: RunState["status"] = ended ? last.status : live ? (last?.status ?? "running") : "interrupted";
  return {
    ok: true,
    value: {
      runId: header.run,
      started: started as EventOf<"run_started"> & { ts: string },
      statuses,
      status,
      mode,
      maxParallel,
      tasks,
      forensic,
      vars,
      lastAttempt,
      resumes,
      startedAt: started.ts,
      ...(ended && endedAt !== undefined ? { endedAt } : {}),
      lastRecordAt: records.at(-1)!.ts,
    },
  };
}
