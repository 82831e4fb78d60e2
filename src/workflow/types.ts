import type { Location } from "../util/result.ts";

/** A task id as written in the file: `[tasks.<id>]`. */
export type TaskId = string & { readonly __brand: "TaskId" };

/** One depends_on entry: a task, or one cell of a matrix task. */
export interface DependencyEntry {
  readonly task: TaskId;
  /** Set for `task[k=v,...]`: the cell's matrix values. */
  readonly matrix?: Readonly<Record<string, string>>;
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
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly timeoutMs?: number;
  readonly onFailure?: TaskId;
  /** Where `[tasks.<id>]` starts in the file. */
  readonly location: Location;
}

/** A workflow file that passed validation. */
export interface Workflow {
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly onFailure?: TaskId;
  /** `[vars]`: defaults, overridden by `--var`. */
  readonly vars: Readonly<Record<string, string>>;
  /** Tasks in file order. */
  readonly tasks: ReadonlyMap<TaskId, TaskDef>;
  /** The path it was read from, as given. */
  readonly file: string;
  /** The file's text, as read. */
  readonly source: string;
}
