/**
 * A workflow file's text -> a validated Workflow with locations, or every problem at once.
 * Pure: the caller reads the file (commands/load.ts), and the checks that need the graph
 * (cycles, variables) come after, in graph/check.ts.
 *
 *   source --smol-toml--> raw tables --valibot, per key--> TaskDef/Workflow
 *
 * Each stage reports what it finds with a location (see locate.ts) and the next stage runs
 * only on what the previous one could make sense of, so one mistake gives one message.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import type { Diagnostic, Location } from "../util/result.ts";
import { MAX_DURATION_MS, readDuration } from "./duration.ts";
import { parseExpr } from "./expr.ts";
import { parseNodeId } from "./node-id.ts";
import type { Span } from "./locate.ts";
import { SourceIndex } from "./locate.ts";
import { Suggester } from "./suggest.ts";
import { templateRefs } from "./template.ts";
import type { DependencyEntry, Executor, SlurmSettings, TaskDef, TaskId, Workflow } from "./types.ts";

export interface ParsedWorkflow {
  /**
   * Present whenever the TOML parsed: the tasks that made sense. It is valid only when
   * `diagnostics` holds no error; the graph stage still looks at it for cycles.
   */
  readonly workflow?: Workflow;
  /** Where each key and value is in the source, for the graph stage's diagnostics. */
  readonly index?: SourceIndex;
  /** Errors and warnings, in the order found (by stage, then by position in the file). */
  readonly diagnostics: Diagnostic[];
}

const TOP_KEYS = ["name", "description", "tags", "on_failure", "executor", "slurm", "vars", "tasks"] as const;
const TASK_KEYS = [
  "cmd",
  "name",
  "description",
  "type",
  "depends_on",
  "working_dir",
  "env",
  "clean_env",
  "register",
  "if",
  "matrix",
  "ignore_failure",
  "resumable",
  "retries",
  "retry_delay",
  "timeout",
  "on_failure",
  "executor",
  "slurm",
] as const;
/** The keys of `[slurm]` and of a task's `slurm` table (docs/slurm.md). */
const SLURM_KEYS = ["partition", "cpus", "mem", "time", "account", "qos", "args"] as const;
const EXECUTORS: readonly Executor[] = ["local", "slurm"];
/** Memory as sbatch --mem reads it: megabytes, or a number with a unit. */
const SLURM_MEM = /^\d+[KMGT]?$/i;
/**
 * Options that wf gives every job itself (logs, directory, environment, one job that returns
 * at once), in long and short form: the same option in `args` would fight with them.
 */
const SBATCH_OWN: ReadonlyArray<readonly [long: string, short?: string]> = [
  ["--output", "-o"], ["--error", "-e"], ["--input", "-i"], ["--chdir", "-D"], ["--export"],
  ["--wrap"], ["--parsable"], ["--wait", "-W"], ["--array", "-a"],
];

/**
 * The most nodes (tasks, or matrix cells) one task and one workflow may expand to. Each node
 * is a process, a journal record and its share of every report; far beyond these a run is a
 * mistake, and expanding it anyway would take gigabytes and minutes before saying so.
 */
export const MAX_NODES_PER_TASK = 10_000;
export const MAX_NODES = 100_000;

const MAX_DURATION_HOURS = Math.floor(MAX_DURATION_MS / 3_600_000);

const TASK_ID = /^[A-Za-z0-9_-]+$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const isString = (x: unknown): boolean => typeof x === "string";
const isNumber = (x: unknown): boolean => typeof x === "number" && !Number.isNaN(x);
const isScalar = (x: unknown): boolean => isString(x) || isNumber(x) || typeof x === "boolean";
const isStrings = (x: unknown): boolean => Array.isArray(x) && x.every(isString);
const isMatrixValues = (x: unknown): boolean => Array.isArray(x) && x.every((y) => isString(y) || isNumber(y));

/**
 * A table (not an array: `[[tasks]]` or `env = [...]` is not one) whose values all pass
 * `item`. A date passes, as it did with valibot's record(), which these checks replaced: its
 * per-value parse was a tenth of validating a large file. Keys valibot skips are skipped too.
 */
function isTableOf(x: unknown, item: (value: unknown) => boolean): boolean {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const table = x as Record<string, unknown>;
  for (const k in table) {
    if (!Object.hasOwn(table, k) || k === "__proto__" || k === "prototype" || k === "constructor") continue;
    if (!item(table[k])) return false;
  }
  return true;
}

/** A check for each typed key, with how to say what it expects. */
const SCHEMAS = {
  string: [isString, "a string"],
  boolean: [(x: unknown) => typeof x === "boolean", "a boolean"],
  strings: [isStrings, "an array of strings"],
  scalars: [(x: unknown) => isTableOf(x, isScalar), "a table of strings"],
  matrix: [(x: unknown) => isTableOf(x, isMatrixValues), "a table of arrays of strings or numbers"],
  table: [(x: unknown) => isTableOf(x, () => true), "a table"],
} as const;
type SchemaName = keyof typeof SCHEMAS;
const TASK_KEY_SET: ReadonlySet<string> = new Set(TASK_KEYS);

const TASK_TYPES: Readonly<Record<string, SchemaName>> = {
  cmd: "string",
  name: "string",
  description: "string",
  type: "string",
  depends_on: "strings",
  working_dir: "string",
  env: "scalars",
  clean_env: "boolean",
  register: "string",
  if: "string",
  matrix: "matrix",
  ignore_failure: "boolean",
  resumable: "boolean",
  retry_delay: "string",
  timeout: "string",
  on_failure: "string",
  executor: "string",
  slurm: "table",
};

const SLURM_TYPES: Readonly<Record<string, SchemaName>> = {
  partition: "string",
  mem: "string",
  time: "string",
  account: "string",
  qos: "string",
  args: "strings",
};

const TOP_TYPES: Readonly<Record<string, SchemaName>> = {
  name: "string",
  description: "string",
  tags: "strings",
  on_failure: "string",
  executor: "string",
  slurm: "table",
  vars: "scalars",
  tasks: "table",
};

/** "a string", "an integer", ... for messages. */
function describe(value: unknown): string {
  if (typeof value === "string") return "a string";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  if (value instanceof Date) return "a date";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "a table";
  return "a value";
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const scalarText = (x: string | number | boolean) => String(x);

/** The file's base name without `.toml`: the default workflow name. */
export function defaultWorkflowName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.toml$/i, "");
}

/** Validates a workflow file's text. Never throws for a bad file: everything is in `diagnostics`. */
export function parseWorkflow(file: string, source: string): ParsedWorkflow {
  const diagnostics: Diagnostic[] = [];
  const didYouMean = new Suggester().didYouMean;
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(source) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const first = (e.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    diagnostics.push({
      severity: "error",
      message: `Invalid TOML: ${first}`,
      location: { file, line: e.line, column: e.column, length: 1 },
    });
    return { diagnostics };
  }

  const index = new SourceIndex(file, source);
  const report = (severity: Diagnostic["severity"], message: string, span: Span) =>
    diagnostics.push({ severity, message, location: index.location(span) });
  const error = (message: string, span: Span) => report("error", message, span);
  const warning = (message: string, span: Span) => report("warning", message, span);
  /** Checks the type of key `key` of the table at `parent`; reports and returns false when wrong. */
  const typed = (parent: readonly string[], key: string, value: unknown, schema: SchemaName, where: string): boolean => {
    const [check, expected] = SCHEMAS[schema];
    if (check(value)) return true;
    const hint = where.startsWith(":") ? where : "";
    const at = hint === "" ? where : "";
    error(`Expected ${expected} for "${key}"${at}, found ${describe(value)}${hint}`, index.valueSpan([...parent, key]));
    return false;
  };

  /**
   * The duration at key `key` of the table at `parent` in milliseconds; undefined when it is
   * not a string (already reported), null when it was reported now.
   */
  const durationAt = (parent: readonly string[], key: string, value: unknown, where: string): number | undefined | null => {
    const text = str(value);
    if (text === undefined) return undefined;
    const ms = readDuration(text);
    if (ms.ok) return ms.value;
    const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    error(
      ms.error === "too-long"
        ? `Invalid duration "${shown}" for "${key}"${where}: the longest allowed is ${MAX_DURATION_HOURS}h (about 292 years)`
        : `Invalid duration "${shown}" for "${key}"${where}: use Go style like "500ms", "30s", "5m" or "1h30m"`,
      index.valueSpan([...parent, key]),
    );
    return null;
  };
  /** The `executor` key of the table at `parent`, or undefined (also when reported). */
  const executorAt = (parent: readonly string[], value: unknown, where: string): Executor | undefined => {
    if (typeof value !== "string") return undefined;
    if ((EXECUTORS as readonly string[]).includes(value)) return value as Executor;
    error(`Invalid executor "${value}"${where}: expected "local" or "slurm"`, index.valueSpan([...parent, "executor"]));
    return undefined;
  };
  /**
   * A `slurm` table at `path` (its type already checked), or undefined when it has a problem
   * (reported). An empty table gives an empty object.
   */
  const slurmAt = (path: readonly string[], table: Record<string, unknown>, where: string): SlurmSettings | undefined => {
    const settings: Mutable<SlurmSettings> = {};
    let fine = true;
    for (const key in table) {
      if (!Object.hasOwn(table, key)) continue;
      const value = table[key];
      const at = [...path, key];
      if (!(SLURM_KEYS as readonly string[]).includes(key)) {
        error(`Unknown key "${key}"${where}${didYouMean(key, SLURM_KEYS)}`, index.keySpan(at));
        fine = false;
        continue;
      }
      if (key === "cpus") {
        if (typeof value !== "number") {
          error(`Expected an integer for "cpus"${where}, found ${describe(value)}`, index.valueSpan(at));
          fine = false;
        } else if (!Number.isSafeInteger(value) || value < 1) {
          error(`Invalid cpus ${value}${where}: expected a whole number, 1 or more`, index.valueSpan(at));
          fine = false;
        } else settings.cpus = value;
        continue;
      }
      if (!typed(path, key, value, SLURM_TYPES[key]!, where)) {
        fine = false;
        continue;
      }
      switch (key) {
        case "partition":
        case "account":
        case "qos":
          if (value === "") {
            error(`Empty "${key}"${where}: name one or leave the key out`, index.valueSpan(at));
            fine = false;
          } else settings[key] = value as string;
          break;
        case "mem":
          if (!SLURM_MEM.test(value as string)) {
            error(`Invalid mem "${value as string}"${where}: expected megabytes, or a number with K, M, G or T like "4G"`, index.valueSpan(at));
            fine = false;
          } else settings.mem = (value as string).toUpperCase();
          break;
        case "time": {
          const ms = durationAt(path, key, value, where);
          if (ms === null || ms === undefined) fine = false;
          else settings.timeMs = ms;
          break;
        }
        case "args": {
          const args = value as string[];
          args.forEach((arg, i) => {
            const own = sbatchOwnOption(arg);
            if (own === undefined) return;
            error(`Invalid sbatch argument "${arg}"${where}: wf sets ${own} itself`, index.itemSpan(at, i));
            fine = false;
          });
          settings.args = args;
          break;
        }
      }
    }
    return fine ? settings : undefined;
  };

  const rawTasksAsWritten = raw["tasks"];
  // ── Top level ────────────────────────────────────────────────────────────
  for (const key of Object.keys(raw)) {
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      error(`Unknown key "${key}" at the top level${didYouMean(key, TOP_KEYS)}`, index.keySpan([key]));
    } else if (!typed([], key, raw[key], TOP_TYPES[key]!, key === "tasks" && Array.isArray(raw[key]) ? ": write [tasks.<id>], not [[tasks]]" : "")) {
      if (key === "tasks") raw[key] = {};
      else delete raw[key];
    }
  }
  const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);
  const vars: Record<string, string> = {};
  const rawVars = (raw["vars"] ?? {}) as Record<string, string | number | boolean>;
  for (const k in rawVars) {
    if (!Object.hasOwn(rawVars, k)) continue;
    if (!VAR_NAME.test(k)) {
      error(`Invalid variable name "${k}" in [vars]: use letters, digits and "_", not starting with a digit`, index.keySpan(["vars", k]));
    }
    vars[k] = scalarText(rawVars[k]!);
  }

  const topExecutor = executorAt([], raw["executor"], "");
  const topSlurm = raw["slurm"] === undefined ? undefined : slurmAt(["slurm"], raw["slurm"] as Record<string, unknown>, " in [slurm]");

  // ── Tasks, one by one ────────────────────────────────────────────────────
  const rawTasks = (raw["tasks"] ?? {}) as Record<string, unknown>;
  const taskIds = Object.keys(rawTasks);
  if (!Object.hasOwn(raw, "tasks") || (taskIds.length === 0 && typeof raw["tasks"] === "object" && !Array.isArray(rawTasksAsWritten))) {
    error("Workflow has no tasks: add a [tasks.<id>] table", index.keySpan(["tasks"]));
  }
  const tasks = new Map<TaskId, TaskDef>();
  let nodeCount = 0;
  let tooManyNodes = false;
  // What the checks between tasks need, noted on the way: the raw tables are slow to read twice.
  const forensicIds = new Set<string>();
  const withDeps: TaskId[] = [];
  const depLists: (readonly string[])[] = [];
  const withOnFailure: TaskId[] = [];
  const onFailureTargets: string[] = [];
  for (const id of taskIds) {
    const def = rawTasks[id];
    const base = ["tasks", id];
    const where = ` in task "${id}"`;
    if (!TASK_ID.test(id)) {
      error(`Invalid task id "${id}": use only letters, digits, "_" and "-"`, index.keySpan(base));
    }
    if (typeof def !== "object" || def === null || Array.isArray(def) || def instanceof Date) {
      error(`Expected a table for task "${id}", found ${describe(def)}`, index.valueSpan(base));
      continue;
    }
    const t = def as Record<string, unknown>;
    let good = true;
    const hasCmd = Object.hasOwn(t, "cmd");
    for (const key in t) {
      if (!Object.hasOwn(t, key)) continue;
      if (!TASK_KEY_SET.has(key)) {
        error(`Unknown key "${key}"${where}${didYouMean(key, TASK_KEYS)}`, index.keySpan([...base, key]));
        good = false;
        continue;
      }
      const schema = TASK_TYPES[key];
      if (schema !== undefined && !typed(base, key, t[key], schema, where)) {
        delete t[key];
        good = false;
      }
    }
    if (!hasCmd) {
      error(`Missing key "cmd"${where}: every task needs a command`, index.keySpan(base));
      good = false;
    }

    let type: TaskDef["type"] = "normal";
    if (t["type"] === "forensic") forensicIds.add(id);
    if (t["type"] !== undefined) {
      if (t["type"] === "normal" || t["type"] === "forensic") type = t["type"];
      else {
        error(`Invalid type "${String(t["type"])}"${where}: expected "normal" or "forensic"`, index.valueSpan([...base, "type"]));
        good = false;
      }
    }

    let retries = 0;
    if (t["retries"] !== undefined) {
      const r = t["retries"];
      if (typeof r !== "number") {
        error(`Expected an integer for "retries"${where}, found ${describe(r)}`, index.valueSpan([...base, "retries"]));
        good = false;
      } else if (!Number.isInteger(r) || r < 0) {
        error(`Invalid retries ${r}${where}: expected a whole number, 0 or more`, index.valueSpan([...base, "retries"]));
        good = false;
      } else retries = r;
    }

    const duration = (key: "retry_delay" | "timeout"): number | undefined => {
      const ms = durationAt(base, key, t[key], where);
      if (ms === null) good = false;
      return ms ?? undefined;
    };
    const retryDelayMs = t["retry_delay"] === undefined ? 0 : duration("retry_delay") ?? 0;
    // timeout = "0" means no timeout, as in Go's time.Duration zero value.
    const timeoutMs = t["timeout"] === undefined ? undefined : duration("timeout") || undefined;

    const cond = str(t["if"]);
    if (cond !== undefined) {
      const parsed = parseExpr(cond);
      if (!parsed.ok) {
        error(`Invalid "if"${where}: ${lowerFirst(parsed.error.message)}`, index.inString([...base, "if"], parsed.error.offset, parsed.error.length));
        good = false;
      }
    }
    let matrix: [string, string[]][] | undefined;
    if (t["matrix"] !== undefined) {
      matrix = [];
      for (const [k, values] of Object.entries(t["matrix"] as Record<string, (string | number)[]>)) {
        if (!VAR_NAME.test(k)) {
          error(`Invalid matrix key "${k}"${where}: use letters, digits and "_", not starting with a digit`, index.keySpan([...base, "matrix", k]));
          good = false;
        }
        if (values.length === 0) {
          error(`Empty matrix key "${k}"${where}: give it at least one value`, index.valueSpan([...base, "matrix", k]));
          good = false;
        }
        matrix.push([k, values.map(String)]);
      }
      if (matrix.length === 0) matrix = undefined;
      // Checked before anything is expanded: a few short arrays can multiply into millions.
      const cells = (matrix ?? []).reduce((n, [, values]) => Math.min(n * Math.max(1, values.length), Number.MAX_SAFE_INTEGER), 1);
      if (cells > MAX_NODES_PER_TASK) {
        error(`Cannot expand the matrix of task "${id}": it makes ${cells > 1e15 ? "more than 10^15" : cells} nodes, more than the ${MAX_NODES_PER_TASK} allowed per task`, index.keySpan([...base, "matrix"]));
        good = false;
      }
    }
    if (good && type === "normal") {
      nodeCount += (matrix ?? []).reduce((n, [, values]) => n * values.length, 1);
      if (nodeCount > MAX_NODES && !tooManyNodes) {
        tooManyNodes = true;
        error(`Cannot expand task "${id}": the workflow would have more than the ${MAX_NODES} nodes allowed per workflow`, index.keySpan(matrix ? [...base, "matrix"] : base));
        good = false;
      }
    }

    const reg = str(t["register"]);
    if (reg !== undefined) {
      const refs = templateRefs(reg);
      const keys = new Set(refs.length === 0 ? [] : (matrix ?? []).map(([k]) => k));
      for (const r of refs) {
        if (!keys.has(r.name)) {
          error(`Variable "${r.name}" in register of "${id}" is not a matrix key of it: only matrix keys can vary a register name`, index.findInValue([...base, "register"], reg.slice(r.index, r.index + r.length)));
          good = false;
        }
      }
      const shape = refs.length === 0 ? reg : reg.replace(/\{\{\s*\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}/g, "x");
      if (!VAR_NAME.test(shape)) {
        error(`Invalid variable name "${reg}" in register of "${id}": use letters, digits and "_", not starting with a digit`, index.valueSpan([...base, "register"]));
        good = false;
      }
    }

    let executor: Executor | undefined;
    if (t["executor"] !== undefined) {
      executor = executorAt(base, t["executor"], where);
      if (executor === undefined) good = false;
    }
    let slurm = topSlurm;
    if (t["slurm"] !== undefined) {
      const own = slurmAt([...base, "slurm"], t["slurm"] as Record<string, unknown>, ` in the slurm table of task "${id}"`);
      if (own === undefined) good = false;
      else slurm = { ...topSlurm, ...own };
    }

    const env: Record<string, string> = {};
    if (t["env"] !== undefined) {
      for (const [k, x] of Object.entries(t["env"] as Record<string, string | number | boolean>)) env[k] = scalarText(x);
    }

    // Deduplicated with a set only when there are many: most tasks name one or two.
    const rawDeps = (t["depends_on"] ?? NONE) as string[];
    if (rawDeps.length > 0) {
      withDeps.push(id as TaskId);
      depLists.push(rawDeps);
    }
    if (typeof t["on_failure"] === "string") {
      withOnFailure.push(id as TaskId);
      onFailureTargets.push(t["on_failure"]);
    }
    const dependsOn: TaskId[] = [];
    const seen = rawDeps.length > 16 ? new Set<TaskId>() : undefined;
    let cells = false;
    for (const entry of rawDeps) {
      const dep = dependencyTask(entry);
      if (seen ? !seen.has(dep) : !dependsOn.includes(dep)) {
        dependsOn.push(dep);
        seen?.add(dep);
      }
      if (!cells && dependencyCell(entry) !== undefined) cells = true;
    }

    if (!good) continue;
    const task = new ValidTask(
      id as TaskId,
      type,
      str(t["cmd"]) ?? "",
      dependsOn,
      env,
      t["clean_env"] === true,
      t["ignore_failure"] === true,
      retries,
      retryDelayMs,
      index,
    );
    const optional = task as Mutable<TaskDef>;
    if (cells) optional.dependsOnEntries = rawDeps.map(dependencyEntry);
    const name = str(t["name"]);
    if (name !== undefined) optional.name = name;
    const description = str(t["description"]);
    if (description !== undefined) optional.description = description;
    const workingDir = str(t["working_dir"]);
    if (workingDir !== undefined) optional.workingDir = workingDir;
    if (reg !== undefined) optional.register = reg;
    if (cond !== undefined) optional.if = cond;
    if (matrix !== undefined) optional.matrix = matrix;
    if (timeoutMs !== undefined) optional.timeoutMs = timeoutMs;
    const onFailure = str(t["on_failure"]);
    if (onFailure !== undefined) optional.onFailure = onFailure as TaskId;
    // Not enumerable, so not in the definition hash (engine/hashes.ts): where a task runs, and
    // with what resources, does not change what it does, and a resume may change them.
    if (executor !== undefined) Object.defineProperty(task, "executor", { value: executor, enumerable: false });
    // Nor is whether a lost attempt may run again: an operator may mark a task so between a run and its resume.
    Object.defineProperty(task, "resumable", { value: t["resumable"] !== false, enumerable: false });
    if (slurm !== undefined) Object.defineProperty(task, "slurm", { value: slurm, enumerable: false });
    tasks.set(task.id, task);
  }

  // ── References between tasks ─────────────────────────────────────────────
  const typeOf = (id: string): TaskDef["type"] | undefined =>
    forensicIds.has(id) ? "forensic" : Object.hasOwn(rawTasks, id) ? "normal" : undefined;
  const matrixOf = (id: string): Record<string, unknown> =>
    ((rawTasks[id] as Record<string, unknown> | undefined)?.["matrix"] ?? {}) as Record<string, unknown>;
  // Every depends_on entry of every task that is a table, in file order, once all tasks are known.
  for (let k = 0; k < withDeps.length; k++) {
    const task = withDeps[k]!;
    const rawDeps = depLists[k]!;
    for (let at = 0; at < rawDeps.length; at++) {
      const entry = rawDeps[at]!;
      const span = () => index.itemSpan(["tasks", task, "depends_on"], at);
      const dep = dependencyTask(entry);
      if (!Object.hasOwn(rawTasks, dep)) {
        error(`Unknown task "${dep}" in depends_on of "${task}"${didYouMean(dep, taskIds)}`, span());
        continue;
      }
      if (typeOf(task) === "forensic") {
        warning(`Ignoring depends_on of forensic task "${task}": forensic tasks run only on failure`, span());
        continue;
      }
      if (typeOf(dep) === "forensic") {
        error(`Forensic task "${dep}" used as a dependency of "${task}": forensic tasks run only on failure`, span());
        continue;
      }
      const cell = dependencyCell(entry);
      if (cell !== undefined) {
        const mx = matrixOf(dep);
        for (const [k, x] of Object.entries(cell)) {
          const values = mx[k];
          if (!Array.isArray(values)) {
            error(`Unknown matrix key "${k}" of task "${dep}" in depends_on of "${task}"${didYouMean(k, Object.keys(mx))}`, span());
          } else if (!values.map(String).includes(x)) {
            error(`Unknown matrix value "${x}" for key "${k}" of task "${dep}" in depends_on of "${task}"${didYouMean(x, values.map(String))}`, span());
          }
        }
      }
    }
  }

  const checkOnFailure = (target: unknown, path: string[], of: string) => {
    if (typeof target !== "string") return;
    if (!Object.hasOwn(rawTasks, target)) {
      error(`Unknown task "${target}" in on_failure of ${of}${didYouMean(target, taskIds.filter((i) => typeOf(i) === "forensic"))}`, index.valueSpan(path));
    } else if (typeOf(target) !== "forensic") {
      error(`Task "${target}" in on_failure of ${of} is not forensic: add type = "forensic" to it`, index.valueSpan(path));
    }
  };
  checkOnFailure(raw["on_failure"], ["on_failure"], "the workflow");
  for (let k = 0; k < withOnFailure.length; k++) {
    const id = withOnFailure[k]!;
    checkOnFailure(onFailureTargets[k], ["tasks", id, "on_failure"], `"${id}"`);
  }

  const onFailure = str(raw["on_failure"]);
  const workflow: Workflow = {
    name: str(raw["name"]) ?? defaultWorkflowName(file),
    tags: (raw["tags"] ?? []) as string[],
    vars,
    tasks,
    file,
    source,
    ...(str(raw["description"]) !== undefined ? { description: str(raw["description"])! } : {}),
    ...(onFailure !== undefined ? { onFailure: onFailure as TaskId } : {}),
    ...(topExecutor !== undefined ? { executor: topExecutor } : {}),
    ...(topSlurm !== undefined ? { slurm: topSlurm } : {}),
  };
  return { workflow, index, diagnostics };
}

const NONE: readonly string[] = [];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A validated task. Its `location` is found when first read (by a diagnostic or a test):
 * locating scans the whole source a second time, which a valid file never needs. Fields are
 * set in TaskDef's order and optional ones only when present, as the definition hash
 * (engine/hashes.ts) serialises them.
 */
class ValidTask implements TaskDef {
  declare readonly dependsOnEntries?: ReadonlyArray<DependencyEntry>;
  declare readonly name?: string;
  declare readonly description?: string;
  declare readonly workingDir?: string;
  declare readonly register?: string;
  declare readonly if?: string;
  declare readonly matrix?: ReadonlyArray<readonly [key: string, values: readonly string[]]>;
  declare readonly timeoutMs?: number;
  declare readonly onFailure?: TaskId;
  declare readonly executor?: Executor;
  declare readonly slurm?: SlurmSettings;
  declare readonly resumable: boolean;
  readonly #index: SourceIndex;
  #location: Location | undefined;

  constructor(
    readonly id: TaskId,
    readonly type: TaskDef["type"],
    readonly cmd: string,
    readonly dependsOn: readonly TaskId[],
    readonly env: Readonly<Record<string, string>>,
    readonly cleanEnv: boolean,
    readonly ignoreFailure: boolean,
    readonly retries: number,
    readonly retryDelayMs: number,
    index: SourceIndex,
  ) {
    this.#index = index;
  }

  /** Where `[tasks.<id>]` starts in the file. */
  get location(): Location {
    return (this.#location ??= this.#index.location(this.#index.keySpan(["tasks", this.id])));
  }
}

/** The option of SBATCH_OWN that `arg` gives (`--output=x`, `-o`, `-ox`), or undefined. */
function sbatchOwnOption(arg: string): string | undefined {
  for (const [long, short] of SBATCH_OWN) {
    if (arg === long || arg.startsWith(`${long}=`) || (short !== undefined && arg.startsWith(short))) return long;
  }
  return undefined;
}

/** The task a depends_on entry names: `build`, or `build` in `build[os=linux]`; a malformed entry is its own (unknown) name. */
function dependencyTask(entry: string): TaskId {
  return (parseNodeId(entry)?.task ?? entry) as TaskId;
}

/** The matrix values a depends_on entry names: `{ os: "linux" }` for `build[os=linux]`, or undefined. */
function dependencyCell(entry: string): Record<string, string> | undefined {
  const pairs = parseNodeId(entry)?.pairs ?? [];
  return pairs.length === 0 ? undefined : Object.fromEntries(pairs);
}

function dependencyEntry(entry: string): DependencyEntry {
  const cell = dependencyCell(entry);
  return cell === undefined ? { task: dependencyTask(entry) } : { task: dependencyTask(entry), matrix: cell };
}
