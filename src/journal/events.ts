/**
 * Every journal line and every terminal event is one of these: the journal is
 * a file of serialised events, resume is a fold over them, and reporters
 * consume the same stream. The valibot schemas are the single source; the
 * TypeScript types are derived from them. journal-format.md documents each.
 */
import * as v from "valibot";

/** Version of the line format; a reader refuses any other. */
export const FORMAT_VERSION = 1;

const str = v.string();
const int = v.pipe(v.number(), v.integer());
const nonNegInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const taskState = v.picklist(["succeeded", "failed"]);

export const RUN_STATUSES = ["running", "resuming", "success", "failed", "cancelled"] as const;
export const MODES = ["sequential", "parallel", "work-stealing"] as const;
export type Mode = (typeof MODES)[number];
/** Where an attempt runs (workflow/types.ts's Executor). */
export const EXECUTORS = ["local", "slurm"] as const;

/** The first line of every journal: which run, written by which version. */
export const Header = v.strictObject({
  type: v.literal("header"),
  format: v.literal(FORMAT_VERSION),
  writer: str,
});

/** The run began: what was run, how, where, and the shape of its graph. */
export const RunStarted = v.strictObject({
  type: v.literal("run_started"),
  workflow: str,
  file: str,
  file_sha256: str,
  tags: v.array(str),
  /** Every node of the graph with its direct dependencies and a hash of its definition. */
  nodes: v.array(v.strictObject({ id: str, task: str, deps: v.array(str), def_sha256: str })),
  mode: v.picklist(MODES),
  max_parallel: v.pipe(int, v.minValue(1)),
  /** Names of the `--var` values passed; their values are never stored. */
  var_names: v.array(str),
  host: str,
  pid: int,
  wf_version: str,
  runtime: str,
  /** The directory tasks run in (and `working_dir` is resolved against); absent in journals of wf before 0.2. */
  cwd: v.optional(str),
  /** Started by `wf run --resume-failed` rather than resuming: why (`the last run, X, succeeded`). */
  resume_failed: v.optional(str),
});

/** The run's status changed; the last one is the outcome. */
export const RunStatus = v.strictObject({
  type: v.literal("run_status"),
  status: v.picklist(RUN_STATUSES),
  reason: v.optional(str),
  /** On `resuming`: the mode and parallelism this execution uses. */
  mode: v.optional(v.picklist(MODES)),
  max_parallel: v.optional(v.pipe(int, v.minValue(1))),
  /** On `resuming`: the directory this execution's tasks run in. */
  cwd: v.optional(str),
  /** On `resuming` by `wf run --resume-failed`: why this run was resumed (`it failed`). */
  resume_failed: v.optional(str),
});

/** An attempt is about to start; durable before its process is spawned. */
export const TaskStarted = v.strictObject({
  type: v.literal("task_started"),
  task: str,
  attempt: v.pipe(int, v.minValue(1)),
  /** Attempts this execution allows for the task, for `attempt 2/3`. */
  max_attempts: v.pipe(int, v.minValue(1)),
  cmd: str,
  stdout_log: str,
  stderr_log: str,
  /** The job's status file, relative to the run's folder; absent in journals written before detached jobs. */
  status_file: v.optional(str),
  /** For a forensic task: the failed task it serves, or `*` for the workflow. */
  forensic_for: v.optional(str),
  /** Where the attempt runs: `slurm` for a Slurm job; absent means `local`. */
  executor: v.optional(v.picklist(EXECUTORS)),
});

/**
 * The attempt's job exists. A local job: its pid leads its own process group; pid, start time
 * and boot id tell it from a reused pid. A Slurm job: its job id, journaled before wf does
 * anything else with it.
 */
export const TaskSpawned = v.strictObject({
  type: v.literal("task_spawned"),
  task: str,
  attempt: v.pipe(int, v.minValue(1)),
  /** A local job's pid; absent for a Slurm job. */
  pid: v.optional(int),
  /** A Slurm job's id, as `sbatch --parsable` printed it. */
  job_id: v.optional(str),
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); absent where /proc cannot be read, and in journals written before detached jobs. */
  proc_start: v.optional(int),
  boot_id: v.optional(str),
});

/** A resume found the attempt's job, started by an earlier execution, still running, and waits for it. */
export const TaskReattached = v.strictObject({
  type: v.literal("task_reattached"),
  task: str,
  attempt: v.pipe(int, v.minValue(1)),
  /** A local job's pid; absent for a Slurm job. */
  pid: v.optional(int),
  /** A Slurm job's id. */
  job_id: v.optional(str),
});

/** An attempt ended. `will_retry` tells whether another attempt follows. */
export const TaskFinished = v.strictObject({
  type: v.literal("task_finished"),
  task: str,
  attempt: v.pipe(int, v.minValue(1)),
  state: taskState,
  exit_code: v.nullable(int),
  signal: v.nullable(str),
  timed_out: v.boolean(),
  duration_ms: nonNegInt,
  will_retry: v.boolean(),
  /** The failure was forgiven by `ignore_failure`. */
  ignored: v.boolean(),
  /** On failure: the last lines of stderr, or why it never started. */
  error: v.optional(str),
  /** The log was cut at the size cap. */
  log_truncated: v.optional(v.boolean()),
  /**
   * A log could not be written, so output is lost: the problem (`disk-full`,
   * `missing`, `read-only`, `permission-denied`, `symbolic-link`, `io-error`,
   * ... or an errno code). The attempt's state is the command's own.
   */
  log_error: v.optional(str),
  /** The result was read from the job's status file by a resume: the job ended while no wf watched it, or was re-attached. */
  adopted: v.optional(v.boolean()),
  /**
   * The attempt may have run its command, and nothing recorded how it ended (its
   * job and everything that watched it died): a task with `resumable = false`
   * is then not run again until `wf resume --rerun TASK`.
   */
  outcome_unknown: v.optional(v.literal(true)),
  forensic_for: v.optional(str),
});

/** The task did not run: its `if` was false, or it already succeeded before a resume. */
export const TaskSkipped = v.strictObject({
  type: v.literal("task_skipped"),
  task: str,
  reason: str,
});

/** The task will not run in this execution, and why. */
export const TaskCancelled = v.strictObject({
  type: v.literal("task_cancelled"),
  task: str,
  reason: str,
});

/** A task's `register` captured a value. */
export const VarRegistered = v.strictObject({
  type: v.literal("var_registered"),
  name: str,
  value: str,
  task: str,
});

/** A torn tail was cut off before appending; the bytes were saved beside the journal. */
export const Recovered = v.strictObject({
  type: v.literal("recovered"),
  dropped_bytes: nonNegInt,
  saved_to: str,
});

/** A lock left by a dead process on this host was taken over. */
export const LockTakenOver = v.strictObject({
  type: v.literal("lock_taken_over"),
  previous_pid: int,
  previous_host: str,
});

/** Resume ended a task process left running by a killed `wf` (`--kill-orphans`). */
export const OrphanKilled = v.strictObject({
  type: v.literal("orphan_killed"),
  task: str,
  attempt: v.pipe(int, v.minValue(1)),
  /** A local job's pid; absent for a Slurm job, ended with `scancel`. */
  pid: v.optional(int),
  /** A Slurm job's id. */
  job_id: v.optional(str),
});

export const EventSchema = v.variant("type", [
  Header,
  RunStarted,
  RunStatus,
  TaskStarted,
  TaskSpawned,
  TaskReattached,
  TaskFinished,
  TaskSkipped,
  TaskCancelled,
  VarRegistered,
  Recovered,
  LockTakenOver,
  OrphanKilled,
]);

/** One event: the payload of a journal line. */
export type Event = v.InferOutput<typeof EventSchema>;
export type EventType = Event["type"];
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;
/** Every event but the header, which only the journal writer itself writes. */
export type AppendableEvent = Exclude<Event, { type: "header" }>;
export type RunStatusValue = (typeof RUN_STATUSES)[number];

/** The envelope every line carries around its event, in this key order. */
export const EnvelopeSchema = v.object({
  v: v.literal(FORMAT_VERSION),
  seq: nonNegInt,
  ts: v.pipe(str, v.isoTimestamp()),
  run: str,
  type: str,
  crc: v.pipe(str, v.regex(/^[0-9a-f]{8}$/)),
});

/** A journal line as read back: envelope plus event. */
export type JournalRecord = Event & { v: number; seq: number; ts: string; run: string; crc: string };
