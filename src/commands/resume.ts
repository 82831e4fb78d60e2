/**
 * `wf resume` (SPEC section 5): lock the run, repair a torn tail, fold the
 * journal, check the workflow file against the journaled graph, restore
 * variables, and run what did not succeed. Returns the exit code.
 */
import { join } from "node:path";
import process from "node:process";
import { endGroup, hasEnvironmentEntry } from "../platform/process.ts";
import { compareDefinitions, type PlanEntry, planResume } from "../engine/resume.ts";
import { nodesOfTask } from "../graph/build.ts";
import type { Dag, NodeId } from "../graph/dag.ts";
import type { AppendableEvent, JournalRecord, Mode } from "../journal/events.ts";
import { foldJournal, type RunState } from "../journal/fold.ts";
import { acquireLock, lockHolder } from "../runs/lock.ts";
import { readJournal } from "../journal/reader.ts";
import { runDir } from "../runs/paths.ts";
import { ensureFreshIndex, INDEX_FILE, linesBackwards, loadRun, parseIndexLine } from "../runs/index.ts";
import { JOURNAL_FILE, openJournalForAppend } from "../journal/writer.ts";
import type { Reporter } from "../report/reporter.ts";
import { WfError } from "../util/result.ts";
import type { TaskId } from "../workflow/types.ts";
import { missingVariables } from "../graph/variables.ts";
import { executeRun } from "./execute-run.ts";
import { loadForRun } from "./load.ts";
import { runIdOf, stateDirFrom } from "./lookup.ts";

export interface ResumeFlags {
  readonly mode?: Mode;
  readonly maxParallel?: number;
  readonly keepGoing: boolean;
  readonly vars: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly printOutput: boolean;
  readonly from: readonly string[];
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly killOrphans: boolean;
  /** Read the workflow from here instead of the path journaled at the start. */
  readonly file?: string;
  /** Without a run id: the most recent resumable run of this workflow. */
  readonly workflow?: string;
  readonly stateDir?: string;
}

export async function resumeCommand(
  target: string | undefined,
  flags: ResumeFlags,
  reporter: Reporter,
  out: (text: string) => void,
): Promise<number> {
  const stateDir = stateDirFrom(flags.stateDir);
  const runId = target === undefined ? await latestResumable(stateDir, flags.workflow) : runIdOf(stateDir, target);
  const dir = runDir(stateDir, runId);
  const journalPath = join(dir, JOURNAL_FILE);
  const cannot = (why: string) => new WfError(`Cannot resume run "${runId}": ${why}`, 3);

  if (flags.dryRun) {
    const read = await readJournal(journalPath);
    if (!read.ok) throw cannot(read.error.message);
    const live = (await lockHolder(join(dir, "lock"))) !== undefined;
    const state = fold(read.value.records, live, cannot);
    if (state.status === "success") throw cannot("it already succeeded");
    const { dag, plan } = await prepare(state, flags, reporter, cannot);
    out(describeResumePlan(state, dag, plan, read.value.kind === "torn" ? read.value.tornBytes : 0, live));
    return 0;
  }

  const lock = await acquireLock(join(dir, "lock"));
  if (!lock.ok) throw cannot(`it is locked by pid ${lock.error.pid} on host "${lock.error.host}"`);
  try {
    const opened = await openJournalForAppend({ path: journalPath, runId, writer: "wf" });
    if (!opened.ok) throw cannot(opened.error.message);
    const { writer: journal, records } = opened.value;
    let handedOver = false; // executeRun closes the journal itself
    try {
      const state = fold(records, false, cannot);
      if (state.status === "success") throw cannot("it already succeeded");
      const opening: AppendableEvent[] = [];
      if (lock.value.tookOver !== undefined) {
        const { pid, host } = lock.value.tookOver;
        opening.push({ type: "lock_taken_over", previous_pid: pid, previous_host: host });
      }
      opening.push(...(await handleOrphans(state, runId, flags.killOrphans, cannot)));
      const { dag, plan, mode, maxParallel } = await prepare(state, flags, reporter, cannot);
      opening.push({ type: "run_status", status: "resuming", mode, max_parallel: maxParallel });
      for (const entry of plan) {
        if (entry.action === "skip") opening.push({ type: "task_skipped", task: entry.id, reason: entry.why });
      }
      // The reporter learns the workflow and its size from the original start line.
      reporter.record(state.started as JournalRecord);
      handedOver = true;
      return await executeRun({
        dag,
        flags: { ...flags, mode, maxParallel },
        journal,
        reporter,
        runId,
        runDir: dir,
        opening,
        prior: {
          done: new Set(plan.filter((e) => e.action === "skip").map((e) => e.id)),
          vars: new Map([...state.vars].map(([name, v]) => [name, v.value])),
          attempts: state.lastAttempt,
        },
      });
    } finally {
      if (!handedOver) await journal.close();
    }
  } finally {
    await lock.value.release();
  }
}

function fold(records: readonly JournalRecord[], live: boolean, cannot: (why: string) => WfError): RunState {
  const folded = foldJournal(records, live);
  if (!folded.ok) throw cannot(folded.error);
  return folded.value;
}

/**
 * The newest run that failed, was cancelled, or was interrupted and is not
 * owned by a live process. Walks the run index from its newest end, so it
 * opens only the journals of runs newer than the one it finds.
 */
async function latestResumable(stateDir: string, workflow: string | undefined): Promise<string> {
  if (await ensureFreshIndex(stateDir)) {
    const seen = new Set<string>();
    for await (const line of linesBackwards(join(stateDir, INDEX_FILE))) {
      const entry = parseIndexLine(line);
      if (entry === undefined || seen.has(entry.id)) continue;
      seen.add(entry.id);
      const loaded = await loadRun(stateDir, entry.id);
      if (!loaded.ok) continue;
      const { state, live } = loaded.run;
      if (live || state.status === "success" || (workflow !== undefined && state.started.workflow !== workflow)) continue;
      return entry.id;
    }
  }
  throw new WfError(`No resumable run found${workflow === undefined ? "" : ` for workflow "${workflow}"`}: nothing failed, was cancelled or was interrupted`, 3);
}

/**
 * Attempts that never finished may still be running if `wf` was killed while
 * they ran. A live process whose environment names this run is an orphan.
 */
async function handleOrphans(
  state: RunState,
  runId: string,
  kill: boolean,
  cannot: (why: string) => WfError,
): Promise<AppendableEvent[]> {
  const killed: AppendableEvent[] = [];
  for (const task of state.tasks.values()) {
    const last = task.attempts.at(-1);
    if (task.state !== "interrupted" || last?.pid === undefined || !(await hasEnvironmentEntry(last.pid, `WF_RUN_ID=${runId}`))) continue;
    if (!kill) {
      throw cannot(`task "${task.id}" from the interrupted execution is still running as pid ${last.pid}: wait for it to end, or pass --kill-orphans`);
    }
    await endGroup(last.pid);
    killed.push({ type: "orphan_killed", task: task.id, attempt: last.attempt, pid: last.pid });
  }
  return killed;
}

/** Loads the workflow, checks it against the journal, and decides what runs. */
async function prepare(
  state: RunState,
  flags: ResumeFlags,
  reporter: Reporter,
  cannot: (why: string) => WfError,
): Promise<{ dag: Dag; plan: PlanEntry[]; mode: Mode; maxParallel: number }> {
  const cliVars = new Set(Object.keys(flags.vars));
  const { dag } = await loadForRun(flags.file ?? state.started.file, undefined, cliVars);
  const changes = compareDefinitions(state, dag);
  if (changes.structural.length > 0) {
    if (!flags.force) throw cannot(`the workflow changed: ${changes.structural.join("; ")}; pass --force to resume anyway`);
    for (const change of changes.structural) reporter.warn(`Resuming despite a change (--force): ${change}`);
  }
  for (const id of changes.changedSucceeded) {
    reporter.warn(`Task "${id}" changed since it succeeded and will not run again: pass --from ${id} to re-run it`);
  }
  const from = flags.from.flatMap((name) => {
    if (dag.nodes.has(name as NodeId)) return [name as NodeId];
    const nodes = nodesOfTask(dag, name as TaskId);
    if (nodes.length === 0) throw new WfError(`Unknown task "${name}" in --from`, 2);
    return nodes;
  });
  const plan = planResume(state, dag, from);
  checkResumeVariables(state, dag, plan, cliVars, reporter);
  const mode = flags.mode ?? state.mode;
  const maxParallel = flags.maxParallel ?? state.maxParallel;
  return { dag, plan, mode, maxParallel: mode === "sequential" && flags.maxParallel === undefined ? 1 : maxParallel };
}

/** SPEC section 5 step 4: `--var` values were never stored, so a task still to run may lack one. */
function checkResumeVariables(state: RunState, dag: Dag, plan: readonly PlanEntry[], cliVars: ReadonlySet<string>, reporter: Reporter): void {
  const toRun = new Set<string>(plan.filter((e) => e.action === "run").map((e) => dag.nodes.get(e.id)!.task.id));
  for (const task of dag.forensic.keys()) toRun.add(task);
  const available = new Set([...cliVars, ...state.vars.keys()]);
  for (const missing of missingVariables(dag, available)) {
    const tasks = missing.tasks.filter((t) => toRun.has(t));
    if (tasks.length === 0) continue;
    const earlier = state.started.var_names.includes(missing.name) ? " (it was passed with --var to the original run, and --var values are never stored)" : "";
    const message = `Variable "${missing.name}" is needed by ${tasks.map((t) => `"${t}"`).join(", ")}${earlier}: pass --var ${missing.name}=VALUE`;
    if (tasks.every((t) => dag.workflow.tasks.get(t)?.ignoreFailure)) reporter.warn(message);
    else throw new WfError(message, 2);
  }
}

function describeResumePlan(state: RunState, dag: Dag, plan: readonly PlanEntry[], tornBytes: number, live: boolean): string {
  const lines = [`Run "${state.runId}" of "${dag.workflow.name}" (${state.status}): ${plan.filter((e) => e.action === "run").length} of ${plan.length} tasks would run`];
  if (live) lines.push(`  note: the run is locked by a live process, so resume would refuse it now`);
  if (tornBytes > 0) lines.push(`  note: the journal's last ${tornBytes} bytes are torn and would be cut off`);
  for (const entry of plan) lines.push(`  ${entry.action === "skip" ? "skip" : "run "} ${entry.id} (${entry.why})`);
  return `${lines.join("\n")}\n`;
}
