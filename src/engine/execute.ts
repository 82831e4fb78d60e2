/**
 * Runs a DAG to its end, journaling every step. Workers take nodes from the
 * scheduler; each node goes through its attempts; results and registered
 * variables are durable before any dependent is made ready.
 *
 *   pending ──ready──> running ──> succeeded ─┐
 *      │                  │  └──> failed ──────┼──> dependents made ready
 *      │                  └─────> skipped ─────┘    (failed only if ignored)
 *      └──> cancelled (a dependency failed, the run stopped, or was aborted)
 */
import { join, resolve } from "node:path";
import { descendants } from "../graph/build.ts";
import type { Dag, DagNode, NodeId } from "../graph/dag.ts";
import type { AppendableEvent, JournalRecord, Mode } from "../journal/events.ts";
import { JournalWriteError } from "../journal/writer.ts";
import type { EventSink as Reporter } from "./sink.ts";
import { evalExpr, parseExpr } from "../workflow/expr.ts";
import { renderTemplate } from "../workflow/template.ts";
import { registeredName, varsProvidedFor } from "../graph/variables.ts";
import type { Executor, TaskDef } from "../workflow/types.ts";
import { executorOf, sbatchArgs } from "../workflow/slurm.ts";
import { nameSafe } from "../platform/job.ts";
import { jobName } from "../platform/slurm.ts";
import type { AttemptResult, Reattach, Spawner } from "./spawner.ts";
import { createScheduler } from "./schedulers/create.ts";
import { abortableSleep } from "../util/timer.ts";
import { type Failure, problemName } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";

export type NodeState = "pending" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";

export interface ExecuteOptions {
  readonly mode: Mode;
  readonly maxParallel: number;
  readonly keepGoing: boolean;
  /** `--var` values; they override `[vars]`. */
  readonly cliVars: Readonly<Record<string, string>>;
  readonly printOutput: boolean;
  /** Where tasks run unless `working_dir` says otherwise, and what relative ones resolve against. */
  readonly cwd: string;
  /** The environment tasks inherit unless `clean_env`. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly logCapBytes: number;
  /** `--executor`: where tasks whose own `executor` key says nothing run. */
  readonly executor?: Executor;
}

export interface ExecuteDeps {
  readonly runId: string;
  /** The run's directory; logs go to its `logs/`. */
  readonly runDir: string;
  /** Rejects with a JournalWriteError when the journal cannot be written: the run then stops. */
  readonly journal: { append(event: AppendableEvent): Promise<JournalRecord> };
  readonly spawner: Spawner;
  readonly reporter: Reporter;
  /** Aborted by a signal or the run timeout; its reason (a string) is journaled. */
  readonly abort: AbortSignal;
  readonly sleep?: (ms: number, abort: AbortSignal) => Promise<void>;
}

/** What an earlier execution of the same run left (resume). */
export interface PriorState {
  /** Nodes that need not run again. */
  readonly done: ReadonlySet<NodeId>;
  /** Each variable's most recent value. */
  readonly vars: ReadonlyMap<string, string>;
  /** The last attempt number journaled per task (forensic tasks included). */
  readonly attempts: ReadonlyMap<string, number>;
  /**
   * Attempts an earlier execution started and never journaled a result for,
   * whose job left a result (adopt) or still runs (wait): the result is taken
   * from the job instead of running the task again.
   */
  readonly inFlight?: ReadonlyMap<NodeId, InFlight>;
}

/** An attempt of an earlier execution whose job this one adopts or waits for. */
export interface InFlight {
  readonly attempt: number;
  /** The job still runs: journal task_reattached and wait for it. */
  readonly running: boolean;
  readonly job: Reattach;
}

export interface Outcome {
  readonly status: "success" | "failed" | "cancelled";
  readonly states: ReadonlyMap<NodeId, NodeState>;
  /** Nodes whose failure made the run fail, in the order they failed. */
  readonly failed: readonly NodeId[];
  /** For a failed run: the first failed node and the first line of its error, `--var` values redacted. */
  readonly reason?: string;
}

/** A log file name for a node and attempt. */
export function logName(task: string, attempt: number, stream: "stdout" | "stderr"): string {
  return `${nameSafe(task)}.${attempt}.${stream}.log`;
}

/** The name of an attempt's status file, beside its logs. */
export function statusName(task: string, attempt: number): string {
  return `${nameSafe(task)}.${attempt}.status`;
}

/** The command ran and exited 0 within its timeout, and what its task registers is known. */
function attemptSucceeded(result: AttemptResult): boolean {
  return result.exitCode === 0 && !result.timedOut && result.spawnError === undefined && result.lost === undefined && result.registerLost === undefined;
}

/**
 * The result with `registerLost` set when it would register `variable` from a
 * stdout log that was lost (it could not be opened, or its file system was
 * full while the task ran): the tail kept is not known to end where the
 * output did, so the attempt fails rather than register a wrong value. A log
 * cut at the cap is not lost: the launcher keeps the real tail past the cut.
 */
export function checkRegister(result: AttemptResult, variable: string | undefined): AttemptResult {
  if (variable === undefined || result.logError === undefined || !attemptSucceeded(result)) return result;
  if (!result.logError.path.endsWith(".stdout.log")) return result; // stderr's log only: stdout is whole
  return { ...result, registerLost: { variable, problem: result.logError.problem } };
}

/** The error message a forensic task sees, and the journal keeps, for a failed attempt. */
export function describeFailure(result: AttemptResult, timeoutMs: number | undefined): string {
  if (result.spawnError !== undefined) return `could not start: ${result.spawnError}`;
  if (result.lost !== undefined) return result.lost.neverRan ? `its command never ran: ${result.lost.why}` : `its outcome is unknown: ${result.lost.why}`;
  if (result.registerLost !== undefined) {
    const { variable, problem } = result.registerLost;
    // A full file system says that writes may have failed, not which: "may".
    if (problem === "disk-full") return `its output may be lost, so "${variable}" cannot be registered: the file system of its log was full while it ran`;
    return `its output was lost, so "${variable}" cannot be registered: its log could not be opened (${problemName(problem)})`;
  }
  let head: string;
  if (result.timedOut) head = `timed out after ${formatMs(timeoutMs ?? 0)}`;
  else if (result.slurm !== undefined) head = slurmEnd(result.slurm);
  else if (result.signal !== null) head = `killed by ${result.signal}`;
  else head = `exit status ${result.exitCode}`;
  return result.stderrTail === "" ? head : `${head}: ${result.stderrTail}`;
}

/** How a Slurm job that left no status file ended, in the scheduler's words. */
function slurmEnd({ state, by }: { state: string; by: "wf" | "scheduler" }): string {
  if (by === "wf") return `its Slurm job was cancelled by wf (${state})`;
  switch (state) {
    case "CANCELLED":
      return "cancelled by the scheduler (CANCELLED)";
    case "TIMEOUT":
      return "ended by the scheduler at its time limit (TIMEOUT)";
    case "NODE_FAIL":
      return "lost with its node (NODE_FAIL)";
    case "unknown":
      return "its Slurm job ended without a result, and Slurm no longer knows it";
    default:
      return `ended by the scheduler without a result (${state})`;
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Runs the DAG. A journal that cannot be written stops the run: running task
 * groups are ended, nothing more is journaled, and the failure is returned.
 */
export async function execute(
  dag: Dag,
  opts: ExecuteOptions,
  deps: ExecuteDeps,
  prior?: PriorState,
): Promise<Result<Outcome, Failure>> {
  return new Execution(dag, opts, deps, prior).run();
}

/** Why the run stops when the journal fails, as attempts see it. */
const JOURNAL_FAILED = "the journal could not be written";
/** `--var` values at least this long are replaced by their placeholder wherever the journal would show them. */
export const REDACT_MIN_LENGTH = 4;
/** A failed run's journaled reason is cut to this many characters. */
const REASON_MAX = 300;

class Execution {
  private readonly states = new Map<NodeId, NodeState>();
  private readonly vars = new Map<string, string>();
  private readonly attempts = new Map<string, number>();
  private readonly waitingOn = new Map<NodeId, number>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly failed: NodeId[] = [];
  private readonly failureMessages = new Map<NodeId, string>();
  private readonly workers: number;
  private readonly sleep: (ms: number, abort: AbortSignal) => Promise<void>;
  private readonly scheduler;
  /** `--var` values to keep out of the journal, longest first (so a value inside another is not cut first). */
  private readonly redactions: [string, string][];
  /** Set once a failure stops new work (fail-fast). */
  private stopReason: string | undefined;
  /** What each node may see, computed when it first starts. */
  private readonly provided = new Map<NodeId, Set<string>>();
  /** Set once the journal cannot be written: nothing more is journaled or started. */
  private journalFailure: Failure | undefined;
  /** Aborted by the caller's signal, or by a journal failure; attempts and sleeps listen to it. */
  private readonly halt = new AbortController();

  constructor(
    private readonly dag: Dag,
    private readonly opts: ExecuteOptions,
    private readonly deps: ExecuteDeps,
    private readonly prior?: PriorState,
  ) {
    this.workers = opts.mode === "sequential" ? 1 : Math.max(1, opts.maxParallel);
    this.scheduler = createScheduler(opts.mode, dag, this.workers);
    this.sleep = deps.sleep ?? abortableSleep;
    if (deps.abort.aborted) this.halt.abort(deps.abort.reason);
    else deps.abort.addEventListener("abort", () => this.halt.abort(deps.abort.reason), { once: true });
    for (const [name, value] of Object.entries(dag.workflow.vars)) this.vars.set(name, value);
    for (const [name, value] of prior?.vars ?? []) this.vars.set(name, value);
    for (const [name, value] of Object.entries(opts.cliVars)) this.vars.set(name, value);
    this.redactions = Object.entries(opts.cliVars)
      .filter(([, value]) => value.length >= REDACT_MIN_LENGTH)
      .sort((a, b) => b[1].length - a[1].length);
    for (const [task, n] of prior?.attempts ?? []) this.attempts.set(task, n);
    for (const id of dag.order) {
      this.states.set(id, prior?.done.has(id) ? "succeeded" : "pending");
      this.waitingOn.set(id, dag.nodes.get(id)!.deps.length);
    }
  }

  async run(): Promise<Result<Outcome, Failure>> {
    // Nodes done in an earlier execution count as ended: release their dependents.
    for (const id of this.dag.order) {
      if (this.states.get(id) !== "succeeded") continue;
      this.release(id, []);
      this.scheduler.ended(id);
    }
    this.scheduler.ready(this.dag.order.filter((id) => this.states.get(id) === "pending" && this.waitingOn.get(id) === 0));

    for (;;) {
      this.fill();
      if (this.running.size === 0) break;
      await Promise.race(this.running.values());
    }

    if (this.journalFailure !== undefined) return err(this.journalFailure);
    const aborted = this.halt.signal.aborted;
    const leftReason = aborted ? String(this.halt.signal.reason) : (this.stopReason ?? "run ended before it could start");
    for (const id of this.dag.order) {
      if (this.states.get(id) === "pending") await this.cancel(id, leftReason);
    }
    if (this.failed.length > 0 && !aborted && this.dag.workflow.onFailure !== undefined) {
      const first = this.failed[0]!;
      await this.runForensic(this.dag.workflow.onFailure, "*", first, this.failureMessages.get(first) ?? "");
    }
    const status = aborted ? "cancelled" : this.failed.length > 0 ? "failed" : "success";
    if (this.journalFailure !== undefined) return err(this.journalFailure);
    const first = this.failed[0];
    const reason = first === undefined ? undefined : this.failureReason(first);
    return ok({ status, states: this.states, failed: this.failed, ...(status === "failed" && reason !== undefined ? { reason } : {}) });
  }

  /** `task "build" failed: exit status 2: make: *** no rule`, one line, at most REASON_MAX characters. */
  private failureReason(node: NodeId): string {
    const error = (this.failureMessages.get(node) ?? "").split("\n").find((l) => l.trim() !== "") ?? "";
    const text = this.scrub(`task "${node}" failed${error === "" ? "" : `: ${error.trim()}`}`);
    return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX - 3)}...` : text;
  }

  /** Starts nodes on idle workers while the scheduler has any for them. */
  private fill(): void {
    if (this.stopReason !== undefined || this.halt.signal.aborted) return;
    for (let worker = 0; worker < this.workers; worker++) {
      if (this.running.has(worker)) continue;
      const node = this.scheduler.take(worker);
      if (node === undefined) continue;
      this.states.set(node, "running");
      const work = this.runNode(this.dag.nodes.get(node)!, worker).finally(() => this.running.delete(worker));
      this.running.set(worker, work);
    }
  }

  /** Marks `id` ended for its dependents; collects those now ready. */
  private release(id: NodeId, ready: NodeId[]): void {
    for (const dependent of this.dag.dependents.get(id) ?? []) {
      const left = this.waitingOn.get(dependent)! - 1;
      this.waitingOn.set(dependent, left);
      if (left === 0 && this.states.get(dependent) === "pending") ready.push(dependent);
    }
  }

  private finish(id: NodeId, state: NodeState, worker: number): void {
    this.states.set(id, state);
    const ready: NodeId[] = [];
    // A failure that counts has already cancelled its descendants, so only ignored failures release anything.
    if (state !== "cancelled") this.release(id, ready);
    this.scheduler.ready(ready, worker);
    this.scheduler.ended(id);
  }

  /**
   * Journals an event, then reports it. Never rejects for a journal failure:
   * the first one is kept, halts the run (ending running task groups), and
   * every later event is dropped, since nothing after it can be durable.
   */
  private async emit(event: AppendableEvent): Promise<void> {
    if (this.journalFailure !== undefined) return;
    let record: JournalRecord;
    try {
      record = await this.deps.journal.append(this.redact(event));
    } catch (e) {
      if (!(e instanceof JournalWriteError)) throw e;
      this.journalFailure ??= e.failure;
      this.halt.abort(JOURNAL_FAILED);
      return;
    }
    if (this.journalFailure === undefined) this.deps.reporter.record(record);
  }

  private async cancel(id: NodeId, reason: string): Promise<void> {
    this.states.set(id, "cancelled");
    this.scheduler.ended(id);
    await this.emit({ type: "task_cancelled", task: id, reason });
  }

  /**
   * `--var` values never enter the journal (journal-format.md): a command line or
   * an error text that holds one (through error_message, a working_dir, a
   * task's stderr) gets `{{.NAME}}` in its place. Values shorter than
   * REDACT_MIN_LENGTH are left: they would match everywhere ("exit 1").
   */
  private scrub(text: string): string {
    let out = text;
    for (const [name, value] of this.redactions) out = out.split(value).join(`{{.${name}}}`);
    return out;
  }

  private redact(event: AppendableEvent): AppendableEvent {
    if (this.redactions.length === 0) return event;
    if (event.type === "task_started") return { ...event, cmd: this.scrub(event.cmd) };
    if (event.type === "task_finished" && event.error !== undefined) return { ...event, error: this.scrub(event.error) };
    return event;
  }

  /** True when `name` holds the value passed with --var (not one a task registered since). */
  private isCliValue(name: string, vars: ReadonlyMap<string, string>): boolean {
    return Object.hasOwn(this.opts.cliVars, name) && vars.get(name) === this.opts.cliVars[name];
  }

  /**
   * The variables a node sees (graph/variables.ts): [vars], --var, what its
   * ancestors registered (restored ones too), built-ins, its matrix values. A
   * forensic task (`extra` set) sees every registered variable.
   */
  private visibleVars(node: DagNode, task: string, attempt: number, extra?: Record<string, string>): Map<string, string> {
    let vars: Map<string, string>;
    if (extra !== undefined) vars = new Map(this.vars);
    else {
      const provided = this.provided.get(node.id) ?? varsProvidedFor(this.dag, node);
      this.provided.set(node.id, provided);
      vars = new Map([...this.vars].filter(([name]) => provided.has(name) || Object.hasOwn(this.opts.cliVars, name)));
    }
    vars.set("run_id", this.deps.runId);
    vars.set("workflow", this.dag.workflow.name);
    vars.set("task_id", task);
    vars.set("attempt", String(attempt));
    for (const [k, v] of Object.entries(node.matrix)) vars.set(k, v);
    for (const [k, v] of Object.entries(extra ?? {})) vars.set(k, v);
    return vars;
  }

  private taskEnv(def: TaskDef, vars: ReadonlyMap<string, string>, task: string, attempt: number): Record<string, string> {
    const env: Record<string, string> = {};
    const base = this.opts.baseEnv;
    // clean_env keeps only PATH, so that commands are still found.
    for (const [k, v] of Object.entries(base)) if (v !== undefined && (!def.cleanEnv || k === "PATH")) env[k] = v;
    for (const [k, v] of Object.entries(def.env)) env[k] = renderTemplate(v, (n) => vars.get(n)).text;
    for (const [k, v] of vars) env[`WF_VAR_${k}`] = v;
    env["WF_RUN_ID"] = this.deps.runId;
    env["WF_WORKFLOW"] = this.dag.workflow.name;
    env["WF_TASK_ID"] = task;
    env["WF_ATTEMPT"] = String(attempt);
    return env;
  }

  private async runNode(node: DagNode, worker: number): Promise<void> {
    const def = node.task;
    const inFlight = this.prior?.inFlight?.get(node.id);
    if (inFlight !== undefined) {
      // Its condition held when it started; its result, once adopted, decides like any other.
      const adopted = await this.adopt(node, inFlight);
      if (adopted === "succeeded") return this.finish(node.id, "succeeded", worker);
      if (adopted === "failed") return this.finish(node.id, "failed", worker);
      if (adopted !== "again") return this.taskFailed(node, def, worker, adopted);
    } else if (def.if !== undefined) {
      const parsed = parseExpr(def.if);
      const vars = this.visibleVars(node, node.id, 0);
      if (parsed.ok && !evalExpr(parsed.value, (n) => vars.get(n))) {
        await this.emit({ type: "task_skipped", task: node.id, reason: `condition is false: ${def.if}` });
        return this.finish(node.id, "skipped", worker);
      }
    }
    const result = await this.attemptAll(node, def, node.id);
    if (result.ok) return this.finish(node.id, "succeeded", worker);
    return this.taskFailed(node, def, worker, result);
  }

  /** A node's last attempt failed: forgiven, or the run's failure, with its forensic task and its descendants cancelled. */
  private async taskFailed(node: DagNode, def: TaskDef, worker: number, result: { readonly message: string }): Promise<void> {
    if (this.halt.signal.aborted) return this.finish(node.id, "failed", worker);
    if (def.ignoreFailure) return this.finish(node.id, "failed", worker);

    this.failed.push(node.id);
    this.failureMessages.set(node.id, result.message);
    const reason = `dependency "${node.id}" failed`;
    const below = descendants(this.dag, [node.id]);
    for (const id of this.dag.order.filter((n) => below.has(n))) {
      if (this.states.get(id) === "pending") await this.cancel(id, reason);
    }
    if (!this.opts.keepGoing) this.stopReason ??= `run stopped after "${node.id}" failed`;
    if (def.onFailure !== undefined) await this.runForensic(def.onFailure, node.id, node.id, result.message);
    this.finish(node.id, "failed", worker);
  }

  /**
   * Journals an attempt's result: the variable it registers first (`register`,
   * when it succeeded), then its task_finished, so that a journal cut between
   * them runs the task again. `error`, `willRetry` and `ignored` apply to a failure.
   */
  private async journalResult(
    task: string,
    attempt: number,
    result: AttemptResult,
    o: { register: string | undefined; error: string; willRetry: boolean; ignored: boolean; tag: { adopted?: true; forensic_for?: string; outcome_unknown?: true } },
  ): Promise<void> {
    const succeeded = attemptSucceeded(result);
    const writes: Promise<void>[] = [];
    if (succeeded && o.register !== undefined) {
      this.vars.set(o.register, result.lastStdoutLine);
      writes.push(this.emit({ type: "var_registered", name: o.register, value: result.lastStdoutLine, task }));
    }
    writes.push(
      this.emit({
        type: "task_finished", task, attempt, state: succeeded ? "succeeded" : "failed",
        exit_code: result.exitCode, signal: result.signal, timed_out: result.timedOut, duration_ms: result.durationMs,
        will_retry: !succeeded && o.willRetry, ignored: !succeeded && o.ignored,
        ...(succeeded ? {} : { error: o.error }),
        ...(result.logTruncated ? { log_truncated: true } : {}),
        ...(result.logError === undefined ? {} : { log_error: problemName(result.logError.problem) }),
        ...o.tag,
      }),
    );
    await Promise.all(writes);
  }

  /**
   * Takes the result of an attempt an earlier execution started: waits for its
   * job if it still runs, then journals the result as adopted. Returns
   * "again" when the task must still run (the result is lost, or it failed
   * and this execution goes on), the node's end when the run is stopping, or
   * the failure when its outcome is unknown and its task is not resumable.
   */
  private async adopt(node: DagNode, inFlight: InFlight): Promise<"succeeded" | "failed" | "again" | { readonly message: string }> {
    const task = node.id;
    const { attempt } = inFlight;
    const spawner = this.deps.spawner;
    if (inFlight.running) {
      const { jobId } = inFlight.job;
      await this.emit({ type: "task_reattached", task, attempt, ...(jobId === undefined ? { pid: inFlight.job.identity.pid } : { job_id: jobId }) });
    }
    if (this.journalFailure !== undefined) return "failed";
    const result = spawner.reattach === undefined ? undefined : await spawner.reattach(inFlight.job, this.halt.signal);
    if (result?.lost !== undefined) {
      const { neverRan } = result.lost;
      // A command that may have run runs again only if its task allows it.
      const final = !neverRan && !node.task.resumable;
      const error = describeFailure(result, node.task.timeoutMs);
      await this.emit({
        type: "task_finished", task, attempt, state: "failed", exit_code: null, signal: null, timed_out: false,
        duration_ms: result.durationMs, will_retry: !final, ignored: final && node.task.ignoreFailure, error,
        ...(neverRan ? {} : { outcome_unknown: true }),
      });
      if (this.halt.signal.aborted) return "failed";
      return final ? { message: error } : "again";
    }
    if (result === undefined) {
      await this.emit({
        type: "task_finished", task, attempt, state: "failed", exit_code: null, signal: null, timed_out: false,
        duration_ms: Math.max(0, Date.now() - inFlight.job.startedMs), will_retry: true, ignored: false,
        error: "its result is lost: the job ended while no wf or launcher watched it",
      });
      return this.halt.signal.aborted ? "failed" : "again";
    }
    const checked = checkRegister(result, registeredName(node));
    const succeeded = attemptSucceeded(checked);
    const stopping = this.halt.signal.aborted;
    await this.journalResult(task, attempt, checked, {
      register: registeredName(node), error: describeFailure(checked, node.task.timeoutMs),
      willRetry: !stopping, ignored: stopping && node.task.ignoreFailure, tag: { adopted: true },
    });
    this.warnLogError(task, checked);
    if (succeeded) return "succeeded";
    return stopping ? "failed" : "again";
  }

  /**
   * Runs attempts until one succeeds, retries run out, or the run is aborted.
   * `forensicFor` marks a forensic task's attempts with the task they serve.
   */
  private async attemptAll(
    node: DagNode,
    def: TaskDef,
    task: string,
    forensic?: { target: string; vars: Record<string, string> },
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const maxAttempts = def.retries + 1;
    const tag = forensic === undefined ? {} : { forensic_for: forensic.target };
    // Attempt numbers go on counting across resumes: this execution's last is `lastAttempt`.
    const lastAttempt = (this.attempts.get(task) ?? 0) + maxAttempts;
    let message = "";
    for (let i = 0; i < maxAttempts; i++) {
      const attempt = (this.attempts.get(task) ?? 0) + 1;
      this.attempts.set(task, attempt);
      const vars = this.visibleVars(node, task, attempt, forensic?.vars);
      const rendered = renderTemplate(def.cmd, (n) => vars.get(n));
      // The journal keeps `{{.name}}` for a --var value: those are never stored.
      const journaledCmd = renderTemplate(def.cmd, (n) => (this.isCliValue(n, vars) ? `{{.${n}}}` : vars.get(n))).text;
      if (rendered.missing.length > 0) {
        const name = rendered.missing[0]!;
        message = `Variable "${name}" is not set: pass --var ${name}=VALUE`;
        await this.emit({
          type: "task_finished", task, attempt, state: "failed", exit_code: null, signal: null, timed_out: false,
          duration_ms: 0, will_retry: false, ignored: def.ignoreFailure && forensic === undefined, error: message, ...tag,
        });
        return { ok: false, message };
      }
      // Journaled relative to the run's directory, so a moved state directory stays readable.
      const stdoutLog = join("logs", logName(task, attempt, "stdout"));
      const stderrLog = join("logs", logName(task, attempt, "stderr"));
      const statusFile = join("logs", statusName(task, attempt));
      const onSlurm = executorOf(this.dag.workflow, def, this.opts.executor) === "slurm";
      await this.emit({
        type: "task_started", task, attempt, max_attempts: lastAttempt,
        cmd: journaledCmd, stdout_log: stdoutLog, stderr_log: stderrLog, status_file: statusFile, ...tag,
        ...(onSlurm ? { executor: "slurm" as const } : {}),
      });
      // A process whose start is not durable must not run.
      if (this.journalFailure !== undefined) return { ok: false, message: JOURNAL_FAILED };
      const spawned: Promise<void>[] = [];
      const ran = await this.deps.spawner.run(
        {
          cmd: rendered.text,
          cwd: def.workingDir === undefined ? this.opts.cwd : resolve(this.opts.cwd, renderTemplate(def.workingDir, (n) => vars.get(n)).text),
          env: this.taskEnv(def, vars, task, attempt),
          ...(def.timeoutMs === undefined ? {} : { timeoutMs: def.timeoutMs }),
          stdoutPath: join(this.deps.runDir, stdoutLog),
          stderrPath: join(this.deps.runDir, stderrLog),
          statusPath: join(this.deps.runDir, statusFile),
          owner: { run: this.deps.runId, node: task, attempt },
          logCapBytes: this.opts.logCapBytes,
          ...(this.opts.printOutput ? { onLine: (stream, line) => this.deps.reporter.output(task, stream, line) } : {}),
          ...(onSlurm ? { slurm: { args: sbatchArgs(def.slurm, def.timeoutMs), jobName: jobName(this.deps.runId, task) } } : {}),
          onJob: (jobId) => {
            const journaled = this.emit({ type: "task_spawned", task, attempt, job_id: jobId });
            spawned.push(journaled);
            return journaled;
          },
          onSpawn: ({ pid, proc_start, boot_id }) => {
            const journaled = this.emit({
              type: "task_spawned", task, attempt, pid,
              ...(proc_start === null ? {} : { proc_start }), ...(boot_id === null ? {} : { boot_id }),
            });
            journaled.catch(() => {}); // awaited below, once the attempt ends; never left unhandled meanwhile
            spawned.push(journaled);
          },
        },
        this.halt.signal,
      );
      await Promise.all(spawned);
      const register = forensic === undefined ? registeredName(node) : undefined;
      const result = checkRegister(ran, register);
      const succeeded = attemptSucceeded(result);
      // An attempt that may have run, with no record of how it ended, is not tried again unless its task allows it.
      const unknown = result.lost !== undefined && !result.lost.neverRan;
      const last = i === maxAttempts - 1 || this.halt.signal.aborted || (unknown && !def.resumable);
      message = succeeded ? "" : describeFailure(result, def.timeoutMs);
      await this.journalResult(task, attempt, result, {
        register, error: message,
        willRetry: !last, ignored: def.ignoreFailure && forensic === undefined, tag: unknown ? { ...tag, outcome_unknown: true } : tag,
      });
      if (this.journalFailure === undefined) this.deps.spawner.journaled?.(join(this.deps.runDir, statusFile));
      this.warnLogError(task, result);
      if (succeeded) return { ok: true };
      if (last) break;
      await this.sleep(def.retryDelayMs, this.halt.signal);
      if (this.halt.signal.aborted) break;
    }
    return { ok: false, message };
  }

  /** Says on the terminal that an attempt's log was lost (its task_finished has `log_error`). */
  private warnLogError(task: string, result: AttemptResult): void {
    if (result.logError === undefined || this.journalFailure !== undefined) return;
    const { path, problem } = result.logError;
    this.deps.reporter.problem({ kind: "fs", action: `write the log of task "${task}" to`, path, problem });
  }

  /** Runs a forensic task for `target` (a node, or `*` for the workflow). Its outcome never changes the run's. */
  private async runForensic(id: string, target: string, failedTask: string, errorMessage: string): Promise<void> {
    const def = this.dag.forensic.get(id as TaskDef["id"]);
    if (def === undefined) throw new Error(`Internal error: unknown forensic task "${id}"`);
    const node: DagNode = { id: id as NodeId, task: def, matrix: {}, deps: [] };
    await this.attemptAll(node, def, id, {
      target,
      vars: { failed_task: failedTask, error_message: errorMessage, failed_dag: this.dag.workflow.name },
    });
  }
}
