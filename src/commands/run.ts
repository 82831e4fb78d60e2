/**
 * `wf run`: validate, check variables, then create the run (directory, lock,
 * journal, workflow copy), execute it and record the outcome. Returns the
 * exit code (docs/errors.md).
 */
import { chmod, copyFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { defSha256, sha256 } from "../engine/hashes.ts";
import type { Dag } from "../graph/dag.ts";
import type { AppendableEvent, Mode } from "../journal/events.ts";
import { activeRunOf, busyFailure } from "../runs/active.ts";
import { acquireLock } from "../runs/lock.ts";
import { ensureDir, newRunId, runPaths, trustedStateDir, workflowLockPath } from "../runs/paths.ts";
import { checkStateDir } from "../runs/trust.ts";
import { appendRunIndex } from "../runs/index.ts";
import { createJournal, type JournalWriter } from "../journal/writer.ts";
import type { Io } from "../platform/io.ts";
import { type Failure, fsCall, type Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import type { Reporter } from "../report/reporter.ts";
import { runtimeName } from "../platform/runtime.ts";
import { VERSION } from "../version.ts";
import { missingVariables } from "../graph/variables.ts";
import { type ExecutionFlags, executeRun } from "./execute-run.ts";
import { loadForRun } from "./load.ts";
import { describePlan } from "./plan.ts";
import { checkSbatch, checkSharedDir, firstSlurmTask } from "./slurm-check.ts";
import { inert } from "../report/inert.ts";
import { describeFailure } from "../report/failure.ts";
import { lastRunOf, startOrResume } from "../runs/last-run.ts";
import { resumeCommand, type ResumeFlags } from "./resume.ts";

export interface RunFlags extends ExecutionFlags {
  readonly dryRun: boolean;
  readonly exclusive: boolean;
  /**
   * `--resume-failed[=N]`: resume the workflow's last run instead of starting one, when it did
   * not succeed (runs/last-run.ts); with the mode and parallelism only if they were given.
   */
  readonly resumeFailed?: { readonly maxResumes?: number; readonly mode?: Mode; readonly maxParallel?: number };
  readonly stateDir?: string;
  readonly workflowsDir?: string;
}

export async function runCommand(target: string, flags: RunFlags, reporter: Reporter, io: Io): Promise<Outcome> {
  const loaded = await loadForRun(target, flags.workflowsDir, new Set(Object.keys(flags.vars)));
  if (!loaded.ok) return loaded;
  const { dag } = loaded.value;
  const vars = checkVariables(dag, new Set(Object.keys(flags.vars)), reporter);
  if (!vars.ok) return vars;
  let newRunWhy: string | undefined;
  // Found before anything else under --resume-failed, which reads it to choose; else once the run is due.
  let found: Result<string, Failure> | undefined;
  if (flags.resumeFailed !== undefined) {
    found = trustedStateDir({ flag: flags.stateDir, env: io.env });
    if (!found.ok) return found;
    const last = await lastRunOf(found.value, dag.workflow.name);
    if (!last.ok) return last;
    const choice = startOrResume(last.value, flags.resumeFailed.maxResumes, describeFailure);
    if (choice.action === "resume") return resumeInstead(choice.runId, choice.why, found.value, dag, flags, reporter, io);
    newRunWhy = choice.why;
    if (flags.dryRun) io.out(inert(`Would start a new run (--resume-failed): ${newRunWhy}\n`));
  }
  if (flags.dryRun) {
    io.out(inert(describePlan(dag, flags.mode, flags.maxParallel)));
    return ok(0);
  }
  const slurmTask = firstSlurmTask(dag, flags.executor);
  if (slurmTask !== undefined) {
    const sbatch = checkSbatch(slurmTask, io.env);
    if (!sbatch.ok) return sbatch;
  }
  const stateDir = found ?? trustedStateDir({ flag: flags.stateDir, env: io.env });
  if (!stateDir.ok) return stateDir;
  if (slurmTask !== undefined) {
    // Before the run exists: a state directory the compute nodes cannot see leaves no run behind.
    const runs = join(stateDir.value, "runs");
    const made = await fsCall("create the state directory", stateDir.value, () => ensureDir(runs));
    if (!made.ok) return made;
    const shared = await checkSharedDir(dag, runs, io.env);
    if (!shared.ok) return shared;
  }

  const releases: (() => Promise<void>)[] = [];
  try {
    const created = await createRun(stateDir.value, dag, flags, releases);
    if (!created.ok) return created;
    const { runId, dir, journal } = created.value;
    const opening: AppendableEvent[] = [runStarted(dag, flags, newRunWhy), { type: "run_status", status: "running" }];
    return await executeRun({ dag, flags, journal, reporter, runId, runDir: dir, opening });
  } finally {
    for (const release of releases.reverse()) await release().catch(() => {});
  }
}

/**
 * `--resume-failed` chose to resume `runId`: exactly as `wf resume RUN --file FILE` would, the
 * file's current definition checked against the journal. Under `--exclusive`, the workflow's
 * guard is held throughout, and another active run of the workflow refuses it.
 */
async function resumeInstead(runId: string, why: string, stateDir: string, dag: Dag, flags: RunFlags, reporter: Reporter, io: Io): Promise<Outcome> {
  const rf = flags.resumeFailed!;
  const resumeFlags: ResumeFlags = {
    ...flags,
    mode: rf.mode,
    maxParallel: rf.maxParallel,
    from: [],
    rerun: [],
    force: false,
    killOrphans: false,
    file: resolve(dag.workflow.file),
    startedIn: flags.cwd,
    cwd: undefined,
    resumeFailed: why,
  };
  if (flags.dryRun) {
    io.out(inert(`Would resume run ${runId} (--resume-failed): ${why}\n`));
    return resumeCommand(runId, stateDir, resumeFlags, reporter, io);
  }
  const releases: (() => Promise<void>)[] = [];
  try {
    if (flags.exclusive) {
      const guarded = await takeExclusive(stateDir, dag.workflow.name, releases, runId);
      if (!guarded.ok) return guarded;
    }
    return await resumeCommand(runId, stateDir, resumeFlags, reporter, io);
  } finally {
    for (const release of releases.reverse()) await release().catch(() => {});
  }
}

/**
 * `--exclusive`: takes the workflow's guard (released by `releases`), then refuses if any run of
 * the workflow is active but `except` (the run a `--resume-failed` goes on with).
 */
async function takeExclusive(stateDir: string, workflow: string, releases: (() => Promise<void>)[], except?: string): Promise<Result<void, Failure>> {
  const lockPath = workflowLockPath(stateDir, workflow);
  const guard = await fsCall("take the lock", lockPath, async () => {
    await ensureDir(dirname(lockPath));
    return acquireLock(lockPath);
  });
  if (!guard.ok) return guard;
  if (!guard.value.ok) {
    const { pid, host, unreadable } = guard.value.error;
    return err(unreadable ? { kind: "lock-unreadable", path: lockPath } : { kind: "workflow-busy", workflow, pid, host });
  }
  releases.push(guard.value.value.release);
  // The guard only stops other --exclusive starts: any run of the workflow still alive (a plain
  // run, a resume, or a task left running by a wf killed with -9) stops this one too.
  const busy = await activeRunOf(stateDir, workflow, undefined, except);
  if (!busy.ok) return busy;
  return busy.value === undefined ? ok(undefined) : err(busyFailure(workflow, busy.value));
}

/**
 * Makes the run exist: state folders, the `--exclusive` guard, the run's
 * folder and lock, the workflow copy, the journal, and its line in the index.
 * Every file-system problem is a failure naming the step and the path.
 */
async function createRun(
  stateDir: string,
  dag: Dag,
  flags: RunFlags,
  releases: (() => Promise<void>)[],
): Promise<Result<{ runId: string; dir: string; journal: JournalWriter }, Failure>> {
  const made = await fsCall("create the state directory", stateDir, () => ensureDir(join(stateDir, "runs")));
  if (!made.ok) return made;
  // Again once it exists: another user may have made it first, between the first look and the mkdir.
  const trusted = checkStateDir(stateDir);
  if (!trusted.ok) return trusted;
  if (flags.exclusive) {
    const guarded = await takeExclusive(stateDir, dag.workflow.name, releases);
    if (!guarded.ok) return guarded;
  }
  const runId = newRunId();
  const paths = runPaths(stateDir, runId);
  const logs = await fsCall("create the run folder", paths.dir, () => ensureDir(paths.logs));
  if (!logs.ok) {
    await rm(paths.dir, { recursive: true, force: true }).catch(() => {});
    return logs;
  }
  const filled = await fillRunFolder(paths, runId, dag, releases);
  if (!filled.ok) {
    // Nothing of the run is usable yet: leave no half-made folder behind.
    await rm(paths.dir, { recursive: true, force: true }).catch(() => {});
    return filled;
  }
  // Lets `wf runs` list the newest runs without opening every journal; a cache, so a failure here is not one of the run.
  await appendRunIndex(stateDir, { id: runId, workflow: dag.workflow.name, tags: [...dag.workflow.tags], started: new Date().toISOString() });
  return ok({ runId, dir: paths.dir, journal: filled.value });
}

/** The run's lock, the workflow copy and the journal, in that order. */
async function fillRunFolder(
  paths: ReturnType<typeof runPaths>,
  runId: string,
  dag: Dag,
  releases: (() => Promise<void>)[],
): Promise<Result<JournalWriter, Failure>> {
  const lock = await fsCall("take the lock", paths.lock, () => acquireLock(paths.lock));
  if (!lock.ok) return lock;
  if (!lock.value.ok) throw new Error(`Internal error: the new run "${runId}" is already locked`);
  releases.push(lock.value.value.release);
  const copied = await fsCall("copy the workflow file to", paths.workflowCopy, () =>
    copyFile(dag.workflow.file, paths.workflowCopy).then(() => chmod(paths.workflowCopy, 0o600)),
  );
  if (!copied.ok) return copied;
  const journal = await fsCall("create journal", paths.journal, () =>
    createJournal({ runDir: paths.dir, runId, writer: `wf ${VERSION} (${runtimeName()})` }),
  );
  return journal;
}

/** A variable that a task needs and nobody passed stops the run before anything starts. */
export function checkVariables(dag: Dag, available: ReadonlySet<string>, reporter: Reporter): Result<void, Failure> {
  for (const missing of missingVariables(dag, available)) {
    if (!missing.allIgnoreFailure) return err({ kind: "missing-variable", name: missing.name, tasks: missing.tasks, passedToOriginal: false });
    const tasks = missing.tasks.map((t) => `"${t}"`).join(", ");
    const message = `Variable "${missing.name}" is needed by ${tasks} but nothing provides it: pass --var ${missing.name}=VALUE`;
    reporter.warn(`${message} (those tasks ignore failure, so they will fail without stopping the run)`);
  }
  return ok(undefined);
}

function runStarted(dag: Dag, flags: RunFlags, resumeFailed: string | undefined): AppendableEvent {
  return {
    type: "run_started",
    workflow: dag.workflow.name,
    file: resolve(dag.workflow.file),
    file_sha256: sha256(dag.workflow.source),
    tags: [...dag.workflow.tags],
    nodes: dag.order.map((id) => {
      const node = dag.nodes.get(id)!;
      return { id, task: node.task.id, deps: [...node.deps], def_sha256: defSha256(node) };
    }),
    mode: flags.mode,
    max_parallel: flags.mode === "sequential" ? 1 : flags.maxParallel,
    var_names: Object.keys(flags.vars),
    host: hostname(),
    pid: process.pid,
    wf_version: VERSION,
    runtime: runtimeName(),
    cwd: flags.cwd,
    ...(resumeFailed === undefined ? {} : { resume_failed: resumeFailed }),
  };
}
