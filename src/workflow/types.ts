import type { Location } from "../util/result.ts";

/** A task id as written in the file: `[tasks.<id>]`. */
export type TaskId = string & { readonly __brand: "TaskId" };

/** One depends_on entry: a task, or one cell of a matrix task. */
export interface DependencyEntry {
  readonly task: TaskId;
  /** Set for `task[k=v,...]`: the cell's matrix values. */
  readonly matrix?: Readonly<Record<string, string>>;
}

/** Where a task's attempts run: on this host, or as Slurm jobs (docs/slurm.md). */
export type Executor = "local" | "slurm";

/**
 * A `[slurm]` table or a task's `slurm` table, after validation: what each Slurm job of a
 * task asks for. Absent keys are left to the cluster's defaults.
 */
export interface SlurmSettings {
  readonly partition?: string;
  /** CPUs per task (`--cpus-per-task`), 1 or more. */
  readonly cpus?: number;
  /** Memory as Slurm reads it: a whole number of megabytes, or with K, M, G or T (`"4G"`). */
  readonly mem?: string;
  /** The job's time limit in milliseconds; 0 asks for none. Without it, the task's timeout. */
  readonly timeMs?: number;
  readonly account?: string;
  readonly qos?: string;
  /** Extra `sbatch` arguments, after the ones the keys above make. */
  readonly args?: readonly string[];
}

/** A task as declared, after validation. Durations are in milliseconds. */
export interface TaskDef {
  readonly id: TaskId;
  readonly name?: string;
  readonly description?: string;
  readonly type: "normal" | "forensic";
  readonly cmd: string;
  /** Tasks this one depends on, each once, in file order (a cell like `x[k=v]` counts as `x`). */
  readonly dependsOn: readonly TaskId[];
  /**
   * The depends_on entries as written, when some name one cell of a matrix task
   * (`"backup-dump[db=postgres]"`, as the Go `wf` examples do). Absent: every entry of
   * `dependsOn` means all nodes of that task.
   */
  readonly dependsOnEntries?: ReadonlyArray<DependencyEntry>;
  readonly workingDir?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cleanEnv: boolean;
  readonly register?: string;
  readonly if?: string;
  /** Matrix keys in file order, each with its values as strings. */
  readonly matrix?: ReadonlyArray<readonly [key: string, values: readonly string[]]>;
  readonly ignoreFailure: boolean;
  /**
   * `resumable` (default true): an attempt that may have run and whose outcome
   * is lost may run again. False for a command that must never run twice (a
   * payment, a deploy): such an attempt stops the resume until `--rerun`.
   * Not part of the definition hash.
   */
  readonly resumable: boolean;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs?: number;
  readonly onFailure?: TaskId;
  /**
   * The task's own `executor` key. It wins over the top-level key and `wf run --executor`:
   * see executorOf() in slurm.ts. Like `slurm`, it is not part of the definition hash.
   */
  readonly executor?: Executor;
  /** The top-level `[slurm]` table with the task's `slurm` table over it, key by key. */
  readonly slurm?: SlurmSettings;
  /** Where `[tasks.<id>]` starts in the file. */
  readonly location: Location;
}

/** A workflow file that passed validation. */
export interface Workflow {
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly onFailure?: TaskId;
  /** The top-level `executor` key: where tasks without their own run. */
  readonly executor?: Executor;
  /** The top-level `[slurm]` table: defaults for every task's Slurm jobs. */
  readonly slurm?: SlurmSettings;
  /** `[vars]`: defaults, overridden by `--var`. */
  readonly vars: Readonly<Record<string, string>>;
  /** Tasks in file order. */
  readonly tasks: ReadonlyMap<TaskId, TaskDef>;
  /** The path it was read from, as given. */
  readonly file: string;
  /** The file's text, as read. */
  readonly source: string;
}
