/**
 * The pure decisions of `wf resume`: what changed in the workflow since the
 * run started, and, for every task, whether it is skipped or run again, and why.
 */
import { descendants } from "../graph/build.ts";
import type { Dag, NodeId } from "../graph/dag.ts";
import type { RunState } from "../journal/fold.ts";
import { missingVariables } from "../graph/variables.ts";
import type { Failure } from "../util/failure.ts";
import type { JobFinding } from "../runs/jobs.ts";
import { unreachable } from "../util/unreachable.ts";
import { defSha256 } from "./hashes.ts";

export interface DefinitionChanges {
  /** Changes that make the journal's results meaningless for the new graph: resume refuses them unless --force. */
  readonly structural: string[];
  /** Tasks that succeeded and whose definition changed since: they are not re-run unless asked. */
  readonly changedSucceeded: string[];
}

/** Compares the graph journaled at the run's start with the workflow file as it is now. */
export function compareDefinitions(state: RunState, dag: Dag): DefinitionChanges {
  const structural: string[] = [];
  const changedSucceeded: string[] = [];
  for (const old of state.started.nodes) {
    const now = dag.nodes.get(old.id as NodeId);
    const succeeded = state.tasks.get(old.id)?.state === "succeeded";
    if (now === undefined) {
      if (succeeded) structural.push(`task "${old.id}" succeeded but is no longer in the workflow (removed or renamed)`);
      continue;
    }
    const before = [...old.deps].sort().join(", ");
    const after = [...now.deps].sort().join(", ");
    if (before !== after) {
      structural.push(`the dependencies of "${old.id}" changed from [${before}] to [${after}]`);
    }
    if (succeeded && defSha256(now) !== old.def_sha256) changedSucceeded.push(old.id);
  }
  return { structural, changedSucceeded };
}

export interface PlanEntry {
  readonly id: NodeId;
  /**
   * skip: it succeeded (or its condition was false); run: it runs (again);
   * adopt: its job ended while no wf watched it, and its result is taken;
   * wait: its job still runs, and this execution waits for it;
   * stop: its last attempt may have run and its outcome is unknown, and its
   * task has `resumable = false`: the resume refuses until `--rerun` names it.
   */
  readonly action: "skip" | "run" | "adopt" | "wait" | "stop";
  readonly why: string;
  /**
   * An attempt that runs again without a result of its own (its command never
   * ran, or may have and its outcome is unknown): the resume journals it as
   * failed with `error`, before the next attempt starts.
   */
  readonly lost?: { readonly attempt: number; readonly error: string; readonly unknown: boolean };
}

/** How a job ended, in the words of the plan: `exit status 0`, `killed by SIGKILL`, `timed out`. */
function jobOutcome(status: Extract<JobFinding, { kind: "adopt" }>["status"]): string {
  if (status.spawn_error !== undefined) return `could not start: ${status.spawn_error}`;
  if (status.timed_out) return "timed out";
  if (status.signal !== null) return `killed by ${status.signal}`;
  return `exit status ${status.exit_code}`;
}

/** What the plan says of an attempt whose outcome is unknown: it runs again if its task may, else the resume stops. */
function unknownOutcome(id: NodeId, task: string, what: string, mayRun: boolean, attempt: number): PlanEntry {
  if (mayRun) return { id, action: "run", why: `interrupted; ${what}: it runs again`, lost: { attempt, error: what, unknown: true } };
  return { id, action: "stop", why: `${what}, and it has resumable = false: pass --rerun ${task} to run it again` };
}

/** The plan's word for an interrupted task, from what is left of its job. */
function interrupted(id: NodeId, task: string, job: JobFinding | undefined, killOrphans: boolean, mayRun: boolean): PlanEntry {
  switch (job?.kind) {
    case "adopt": {
      const outcome = jobOutcome(job.status);
      const again = job.status.exit_code === 0 && job.status.signal === null && !job.status.timed_out ? "" : "; it runs again";
      const source = job.source === "shell" ? " (as its shell recorded it; its launcher died)" : "";
      return { id, action: "adopt", why: `its job ended while no wf was running: ${outcome}${source}${again}` };
    }
    case "never-ran":
      return { id, action: "run", why: `interrupted; its command never ran: ${job.why}`, lost: { attempt: job.attempt, error: `its command never ran: ${job.why}`, unknown: false } };
    case "unknown":
      return unknownOutcome(id, task, `its outcome is unknown: ${job.why}`, mayRun, job.attempt);
    case "wait":
      if (job.jobId !== undefined) {
        const state = job.slurmState === "unknown" ? "not known to have ended (squeue did not answer)" : `still ${job.slurmState}`;
        if (killOrphans) return { id, action: "run", why: `interrupted; its Slurm job ${job.jobId}, ${state}, is cancelled first (--kill-orphans)` };
        return { id, action: "wait", why: `its Slurm job ${job.jobId} is ${state}` };
      }
      if (killOrphans) return { id, action: "run", why: `interrupted; its job, still running as pid ${job.identity.pid}, is ended first (--kill-orphans)` };
      return { id, action: "wait", why: `its job is still running as pid ${job.identity.pid}` };
    case "gone":
      if (job.jobId !== undefined) {
        const state = job.slurmState === undefined ? "and Slurm no longer knows it" : `(${job.slurmState})`;
        return unknownOutcome(id, task, `its outcome is unknown: its Slurm job ${job.jobId} ended without a result ${state}`, mayRun, job.attempt);
      }
      return { id, action: "run", why: "interrupted; its Slurm job was never submitted" };
    case "legacy":
    case undefined:
      return { id, action: "run", why: "interrupted" };
    default:
      return unreachable(job);
  }
}

/**
 * For every node of the graph, in order: skipped when it succeeded (or its
 * condition was false) and no `--from` covers it; adopted or waited for when
 * an interrupted attempt's job left a result or still runs (`jobs`, by task
 * node); run otherwise, with the reason.
 */
export function planResume(
  state: RunState,
  dag: Dag,
  from: readonly NodeId[],
  jobs: ReadonlyMap<string, JobFinding> = new Map(),
  killOrphans = false,
  /** `--rerun`: nodes whose attempt of unknown outcome may run again although their task has `resumable = false`. */
  allowed: readonly NodeId[] = [],
): PlanEntry[] {
  const rerun = new Set<NodeId>([...from, ...descendants(dag, from)]);
  return dag.order.map((id) => {
    const task = state.tasks.get(id);
    const was = task?.state ?? "new";
    const def = dag.nodes.get(id)!.task;
    const mayRun = def.resumable || allowed.includes(id);
    if (rerun.has(id)) {
      const cause = from.includes(id) ? "named by --from" : "a descendant of a --from task";
      // An interrupted attempt that left no result is journaled as such before the task runs again.
      const lost = was === "running" || was === "interrupted" ? interrupted(id, def.id, jobs.get(id), killOrphans, true).lost : undefined;
      return { id, action: "run", why: `${cause}${was === "succeeded" ? ", had succeeded" : ""}`, ...(lost === undefined ? {} : { lost }) };
    }
    switch (was) {
      case "succeeded":
        return { id, action: "skip", why: "already succeeded" };
      case "skipped":
        return { id, action: "skip", why: `already skipped: ${task?.reason ?? "condition is false"}` };
      case "new":
        return { id, action: "run", why: "new in the workflow file" };
      case "pending":
        return { id, action: "run", why: "never started" };
      case "running":
      case "interrupted":
        return interrupted(id, def.id, jobs.get(id), killOrphans, mayRun);
      case "failed": {
        const last = task?.attempts.at(-1)?.finished;
        if (last?.outcome_unknown === true && !mayRun) return unknownOutcome(id, def.id, `${last.error ?? "its outcome is unknown"}`, false, last.attempt);
        return { id, action: "run", why: task?.ignored ? "failed (ignored)" : "failed" };
      }
      case "cancelled":
        return { id, action: "run", why: `cancelled: ${task?.reason ?? "no reason given"}` };
    }
  });
}

/**
 * Restoring variables on resume: `--var` values were never stored, so a task still to
 * run may lack one. A variable missing for a task that must succeed stops the
 * resume (`failure`); one missing only for tasks that ignore failure is a warning.
 */
export function resumeVariables(
  state: RunState,
  dag: Dag,
  plan: readonly PlanEntry[],
  cliVars: ReadonlySet<string>,
): { readonly failure?: Failure; readonly warnings: Failure[] } {
  // A job adopted or waited for may fail and run again: its task needs its variables too.
  const toRun = new Set<string>(plan.filter((e) => e.action !== "skip").map((e) => dag.nodes.get(e.id)!.task.id));
  for (const task of dag.forensic.keys()) toRun.add(task);
  const available = new Set([...cliVars, ...state.vars.keys()]);
  const warnings: Failure[] = [];
  for (const missing of missingVariables(dag, available)) {
    const tasks = missing.tasks.filter((t) => toRun.has(t));
    if (tasks.length === 0) continue;
    const failure: Failure = { kind: "missing-variable", name: missing.name, tasks, passedToOriginal: state.started.var_names.includes(missing.name) };
    if (!tasks.every((t) => dag.workflow.tasks.get(t)?.ignoreFailure)) return { failure, warnings };
    warnings.push(failure);
  }
  return { warnings };
}

