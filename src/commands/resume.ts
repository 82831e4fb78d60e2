/**
 * `wf resume` (its steps are in README.md): lock the run, repair a torn tail, fold the
 * journal, check the workflow file against the journaled graph, restore
 * variables, and run what did not succeed. Returns the exit code.
 */
import { stat } from "node:fs/promises";
import type { Io } from "../platform/io.ts";
import type { InFlight } from "../engine/execute.ts";
import { compareDefinitions, type PlanEntry, planResume, resumeVariables } from "../engine/resume.ts";
import { nodesOfTask } from "../graph/build.ts";
import type { Dag, NodeId } from "../graph/dag.ts";
import type { AppendableEvent, JournalRecord, Mode } from "../journal/events.ts";
import { JournalFold, type RunState } from "../journal/fold.ts";
import { openJournalForAppend } from "../journal/writer.ts";
import { endGroup, hasEnvironmentEntry } from "../platform/process.ts";
import { describeFailure } from "../report/failure.ts";
import type { Reporter } from "../report/reporter.ts";
import { ensureFreshIndex, linesBackwards, parseIndexLine } from "../runs/index.ts";
import { acquireLock } from "../runs/lock.ts";
import { findJobs, type JobFinding, settleLaunchers } from "../runs/jobs.ts";
import { readRun } from "../runs/open.ts";
import { checkRunFolder, indexPath, resolveRunId, runPaths } from "../runs/paths.ts";
import { type Failure, fsCall, type Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import type { Executor, TaskId } from "../workflow/types.ts";
import { executeRun } from "./execute-run.ts";
import { cancel } from "../platform/slurm.ts";
import { executorOf } from "../workflow/slurm.ts";
import { checkSbatch, checkSharedDir } from "./slurm-check.ts";
import { loadForRun } from "./load.ts";
import { inert } from "../report/inert.ts";

export interface ResumeFlags {
  readonly mode?: Mode;
  readonly maxParallel?: number;
  readonly keepGoing: boolean;
  readonly vars: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly printOutput: boolean;
  /** `--executor`: where new attempts run; an adopted or re-attached job stays where it ran. */
  readonly executor?: Executor;
  readonly from: readonly string[];
  /** `--rerun`: tasks with `resumable = false` whose lost attempt may run again. */
  readonly rerun: readonly string[];
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly killOrphans: boolean;
  /** Read the workflow from here instead of the path journaled at the start. */
  readonly file?: string;
  /** Without a run id: the most recent resumable run of this workflow. */
  readonly workflow?: string;
  /** `--cwd`: run the remaining tasks here (absolute), not where the run's last execution ran them. */
  readonly cwd?: string;
  /** The directory `wf resume` was started in: used only for a journal that predates journaled directories. */
  readonly startedIn: string;
  /** `--all-interrupted`: once the run is locked, refuse it unless it is still interrupted (another wf may have resumed it). */
  readonly onlyInterrupted?: boolean;
  /** Resumed by `wf run --resume-failed`: why, journaled on the `resuming` line. */
  readonly resumeFailed?: string;
}

/** How many of a changed workflow's changes a refusal or warning names; the rest are counted. */
const NAMED_CHANGES = 5;

export async function resumeCommand(
  target: string | undefined,
  stateDir: string,
  flags: ResumeFlags,
  reporter: Reporter,
  io: Io,
): Promise<Outcome> {
  const found = target === undefined ? await latestResumable(stateDir, flags.workflow) : resolveRunId(stateDir, target);
  if (!found.ok) return found;
  const runId = found.value;
  const paths = runPaths(stateDir, runId);
  const refused = (reason: string): Outcome => err({ kind: "resume-refused", runId, reason });

  if (flags.dryRun) {
    // The read path every command uses; read-only, no lock.
    const read = await readRun(stateDir, runId, "resume", { keepRecords: false });
    if (!read.ok) return read;
    const { state, live, tornBytes } = read.value;
    if (state.status === "success") return refused("it already succeeded");
    if (!live) await settleLaunchers(paths.dir);
    const jobs = live ? [] : findJobs(state, paths.dir);
    const prepared = await prepare(state, flags, reporter, paths.workflowCopy, jobs);
    if (!prepared.ok) return prepared;
    const { dag, plan, cwd } = prepared.value;
    io.out(inert(describeResumePlan(state, dag, plan, tornBytes, live, cwd === flags.startedIn ? undefined : cwd)));
    return ok(0);
  }

  const folder = await checkRunFolder(paths);
  if (!folder.ok) return folder;
  const lock = await fsCall("take the lock", paths.lock, () => acquireLock(paths.lock));
  if (!lock.ok) return lock;
  if (!lock.value.ok) {
    const { pid, host, unreadable } = lock.value.error;
    return err(unreadable ? { kind: "lock-unreadable", path: paths.lock } : { kind: "run-locked", action: "resume", runId, pid, host });
  }
  const held = lock.value.value;
  try {
    // One pass: the journal is checked, folded and opened for append as it is read, keeping no record.
    const fold = new JournalFold();
    const opened = await openJournalForAppend({ path: paths.journal, runId, writer: "wf", onRecord: (r) => fold.add(r) });
    if (!opened.ok) return err({ kind: "run-unusable", action: "resume", runId, problem: opened.error });
    const { writer: journal } = opened.value;
    let handedOver = false; // executeRun closes the journal itself
    try {
      const read = fold.finish(false);
      if (!read.ok) return err({ kind: "run-unusable", action: "resume", runId, problem: { kind: "incomplete" } });
      const state = read.value;
      if (flags.onlyInterrupted === true && state.status !== "interrupted") return err({ kind: "run-moved-on", runId, status: state.status });
      if (state.status === "success") return refused("it already succeeded");
      const opening: AppendableEvent[] = [];
      if (held.tookOver !== undefined) {
        const { pid, host } = held.tookOver;
        opening.push({ type: "lock_taken_over", previous_pid: pid, previous_host: host });
      }
      // The launchers of the dead wf first write what it left them; only then is a missing status file final.
      await settleLaunchers(paths.dir);
      const jobs = findJobs(state, paths.dir);
      const orphans = await handleLegacyOrphans(jobs, runId, flags.killOrphans);
      if (!orphans.ok) return orphans;
      opening.push(...orphans.value);
      const prepared = await prepare(state, flags, reporter, paths.workflowCopy, jobs);
      if (!prepared.ok) return prepared;
      const { dag, plan, mode, maxParallel, cwd } = prepared.value;
      // A job still running whose task runs again (--kill-orphans, --from) is ended first: never two at once.
      const inFlight = new Map<NodeId, InFlight>();
      const byTask = new Map(jobs.map((j) => [j.task, j]));
      for (const entry of plan) {
        const job = byTask.get(entry.id);
        if (job === undefined) continue;
        if (entry.action === "run" && job.kind === "wait") {
          if (job.jobId !== undefined) {
            await cancel(job.jobId);
            opening.push({ type: "orphan_killed", task: job.task, attempt: job.attempt, job_id: job.jobId });
          } else {
            await endGroup(job.identity.pid);
            opening.push({ type: "orphan_killed", task: job.task, attempt: job.attempt, pid: job.identity.pid });
          }
        }
        if (entry.action === "adopt" && job.kind === "adopt") {
          const { status } = job;
          const identity = { pid: status.pid ?? 0, proc_start: status.proc_start ?? null, boot_id: status.boot_id ?? null };
          const jobId = job.jobId === undefined ? {} : { jobId: job.jobId };
          const owner = { run: runId, node: entry.id, attempt: job.attempt };
          inFlight.set(entry.id, { attempt: job.attempt, running: false, job: { identity, statusPath: job.statusPath, startedMs: job.startedMs, owner, ...jobId } });
        }
        if (entry.action === "wait" && job.kind === "wait") {
          const { identity, statusPath, startedMs, deadline } = job;
          const jobId = job.jobId === undefined ? {} : { jobId: job.jobId };
          const owner = { run: runId, node: entry.id, attempt: job.attempt };
          inFlight.set(entry.id, { attempt: job.attempt, running: true, job: { identity, statusPath, startedMs, owner, ...(deadline === undefined ? {} : { deadline }), ...jobId } });
        }
      }
      const checked = await checkSlurm(dag, plan, flags.executor, paths.dir, io);
      if (!checked.ok) return checked;
      opening.push({
        type: "run_status", status: "resuming", mode, max_parallel: maxParallel, cwd,
        ...(flags.resumeFailed === undefined ? {} : { resume_failed: flags.resumeFailed }),
      });
      for (const entry of plan) {
        if (entry.action === "skip") opening.push({ type: "task_skipped", task: entry.id, reason: entry.why });
        // An attempt that left no result is journaled as failed, and says whether its command may have run.
        if (entry.action === "run" && entry.lost !== undefined) {
          const { attempt, error, unknown } = entry.lost;
          opening.push({
            type: "task_finished", task: entry.id, attempt, state: "failed", exit_code: null, signal: null, timed_out: false,
            duration_ms: 0, will_retry: true, ignored: false, error, ...(unknown ? { outcome_unknown: true } : {}),
          });
        }
      }
      // The reporter learns the workflow and its size from the original start line.
      reporter.record(state.started as JournalRecord);
      handedOver = true;
      return await executeRun({
        dag,
        flags: { ...flags, mode, maxParallel, cwd },
        journal,
        reporter,
        runId,
        runDir: paths.dir,
        opening,
        prior: {
          done: new Set(plan.filter((e) => e.action === "skip").map((e) => e.id)),
          vars: new Map([...state.vars].map(([name, v]) => [name, v.value])),
          attempts: state.lastAttempt,
          inFlight,
        },
      });
    } finally {
      if (!handedOver) await journal.close();
    }
  } finally {
    await held.release();
  }
}

/**
 * When a task still to run (or its forensic task) will run on Slurm: sbatch is on PATH, and a
 * first job can write in the run's folder. Jobs adopted or waited for need neither.
 */
async function checkSlurm(dag: Dag, plan: readonly PlanEntry[], flag: Executor | undefined, runDir: string, io: Io): Promise<Result<void, Failure>> {
  const torun = plan.filter((e) => e.action !== "skip").map((e) => ({ id: e.id as string, def: dag.nodes.get(e.id)!.task }));
  const forensic = [...dag.forensic].map(([id, def]) => ({ id: id as string, def }));
  const first = [...torun, ...forensic].find(({ def }) => executorOf(dag.workflow, def, flag) === "slurm");
  if (first === undefined) return ok(undefined);
  const sbatch = checkSbatch(first.id, io.env);
  if (!sbatch.ok) return sbatch;
  return checkSharedDir(dag, runDir, io.env);
}

/**
 * The newest run that failed, was cancelled, or was interrupted and is not
 * owned by a live process. Walks the run index from its newest end, so it
 * opens only the journals of runs newer than the one it finds.
 */
async function latestResumable(stateDir: string, workflow: string | undefined): Promise<Result<string, Failure>> {
  const indexed = await fsCall("read the run index", indexPath(stateDir), () => ensureFreshIndex(stateDir));
  if (!indexed.ok) return indexed;
  if (indexed.value) {
    const seen = new Set<string>();
    for await (const line of linesBackwards(indexPath(stateDir))) {
      const entry = parseIndexLine(line);
      if (entry === undefined || seen.has(entry.id)) continue;
      seen.add(entry.id);
      const loaded = await readRun(stateDir, entry.id, "resume", { keepRecords: false });
      if (!loaded.ok) continue;
      const { state, live } = loaded.value;
      if (live || state.status === "success" || (workflow !== undefined && state.started.workflow !== workflow)) continue;
      return ok(entry.id);
    }
  }
  return err({ kind: "no-resumable-run", ...(workflow === undefined ? {} : { workflow }) });
}

/**
 * Attempts started by a wf that wrote no status files (before detached jobs) may still
 * be running if it was killed while they ran: a live process whose
 * environment names this run is one. Resume refuses, or ends it with --kill-orphans.
 */
async function handleLegacyOrphans(jobs: readonly JobFinding[], runId: string, kill: boolean): Promise<Result<AppendableEvent[], Failure>> {
  const killed: AppendableEvent[] = [];
  for (const o of jobs) {
    if (o.kind !== "legacy" || !(await hasEnvironmentEntry(o.pid, `WF_RUN_ID=${runId}`))) continue;
    if (!kill) {
      return err({
        kind: "resume-refused",
        runId,
        reason: `task "${o.task}" from the interrupted execution is still running as pid ${o.pid}: wait for it to end, or pass --kill-orphans`,
      });
    }
    await endGroup(o.pid);
    killed.push({ type: "orphan_killed", task: o.task, attempt: o.attempt, pid: o.pid });
  }
  return ok(killed);
}

/** Loads the workflow, checks it against the journal, and decides what runs. */
async function prepare(
  state: RunState,
  flags: ResumeFlags,
  reporter: Reporter,
  /** The copy of the workflow file kept in the run's folder. */
  copyOf: string,
  jobs: readonly JobFinding[],
): Promise<Result<{ dag: Dag; plan: PlanEntry[]; mode: Mode; maxParallel: number; cwd: string }, Failure>> {
  // Tasks run where the run ran them (relative paths in commands mean that directory), unless --cwd says otherwise.
  const cwd = flags.cwd ?? state.cwd ?? flags.startedIn;
  const where = await stat(cwd).catch(() => undefined);
  if (where === undefined || !where.isDirectory()) {
    const problem = where === undefined ? "does not exist" : "is not a folder";
    if (flags.cwd !== undefined) return err({ kind: "usage", message: `Invalid --cwd "${flags.cwd}": it ${problem}` });
    return err({
      kind: "resume-refused",
      runId: state.runId,
      reason: `its working directory "${cwd}" ${problem === "does not exist" ? "no longer exists" : "is not a folder"}: pass --cwd DIR to run the remaining tasks elsewhere`,
    });
  }
  const cliVars = new Set(Object.keys(flags.vars));
  // The journaled path, unless --file says otherwise; when it is gone, the copy kept when the run started.
  let file = flags.file ?? state.started.file;
  const isFile = (path: string) => stat(path).then((s) => s.isFile(), () => false);
  if (flags.file === undefined && !(await isFile(file))) {
    if (!(await isFile(copyOf))) {
      return err({
        kind: "resume-refused",
        runId: state.runId,
        reason: `its workflow file "${file}" no longer exists, nor does the copy kept when the run started ("${copyOf}"): pass --file PATH`,
      });
    }
    reporter.warn(`The workflow file "${file}" no longer exists: resuming from the copy kept when the run started, "${copyOf}"`);
    file = copyOf;
  }
  const loaded = await loadForRun(file, undefined, cliVars);
  if (!loaded.ok) return loaded;
  const { dag } = loaded.value;
  const changes = compareDefinitions(state, dag);
  if (changes.structural.length > 0) {
    // The first few changes, named: a workflow renamed wholesale must not print one sentence of megabytes.
    const named = changes.structural.slice(0, NAMED_CHANGES);
    const more = changes.structural.length - named.length;
    if (!flags.force) {
      const list = more === 0 ? named.join("; ") : `${named.join("; ")}; and ${more} more change${more === 1 ? "" : "s"}`;
      return err({ kind: "resume-refused", runId: state.runId, reason: `the workflow changed: ${list}; pass --force to resume anyway` });
    }
    for (const change of named) reporter.warn(`Resuming despite a change (--force): ${change}`);
    if (more > 0) reporter.warn(`Resuming despite ${more} more change${more === 1 ? "" : "s"} (--force)`);
  }
  for (const id of changes.changedSucceeded) {
    reporter.warn(`Task "${id}" changed since it succeeded and will not run again: pass --from ${id} to re-run it`);
  }
  const named = (option: string, names: readonly string[]): Result<NodeId[], Failure> => {
    const nodes: NodeId[] = [];
    for (const name of names) {
      const found = dag.nodes.has(name as NodeId) ? [name as NodeId] : nodesOfTask(dag, name as TaskId);
      if (found.length === 0) return err({ kind: "usage", message: `Unknown task "${name}" in ${option}` });
      nodes.push(...found);
    }
    return ok(nodes);
  };
  const from = named("--from", flags.from);
  if (!from.ok) return from;
  const rerun = named("--rerun", flags.rerun);
  if (!rerun.ok) return rerun;
  const plan = planResume(state, dag, from.value, new Map(jobs.map((j) => [j.task, j])), flags.killOrphans, rerun.value);
  // A command that must not run twice, whose last attempt may have run: the operator decides, not wf.
  const stops = plan.filter((e) => e.action === "stop");
  if (stops.length > 0 && !flags.dryRun) {
    const said = stops.map((e) => `task "${e.id}" may have run, and ${e.why.replace(/^its /, "its ")}`).join("; ");
    return err({ kind: "resume-refused", runId: state.runId, reason: said });
  }
  const vars = resumeVariables(state, dag, plan, cliVars);
  if (vars.failure !== undefined) return err(vars.failure);
  for (const warning of vars.warnings) reporter.warn(describeFailure(warning));
  const mode = flags.mode ?? state.mode;
  const maxParallel = flags.maxParallel ?? state.maxParallel;
  return ok({ dag, plan, mode, maxParallel: mode === "sequential" && flags.maxParallel === undefined ? 1 : maxParallel, cwd });
}

function describeResumePlan(state: RunState, dag: Dag, plan: readonly PlanEntry[], tornBytes: number, live: boolean, elsewhere: string | undefined): string {
  const count = (action: PlanEntry["action"]) => plan.filter((e) => e.action === action).length;
  const taken = [
    count("adopt") > 0 ? `, ${count("adopt")} adopted` : "",
    count("wait") > 0 ? `, ${count("wait")} waited for` : "",
    count("stop") > 0 ? `; ${count("stop")} stop${count("stop") === 1 ? "s" : ""} the resume (resumable = false)` : "",
  ].join("");
  const lines = [`Run "${state.runId}" of "${dag.workflow.name}" (${state.status}): ${count("run")} of ${plan.length} tasks would run${taken}`];
  if (elsewhere !== undefined) lines.push(`  note: tasks would run in "${elsewhere}"`);
  if (live) lines.push(`  note: the run is locked by a live process, so resume would refuse it now`);
  if (tornBytes > 0) lines.push(`  note: the journal's last ${tornBytes} bytes are torn and would be cut off`);
  for (const entry of plan) lines.push(`  ${entry.action.padEnd(4)} ${entry.id} (${entry.why})`);
  return `${lines.join("\n")}\n`;
}
