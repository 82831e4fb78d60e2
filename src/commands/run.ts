/**
 * `wf run`: validate, check variables, then create the run (directory, lock,
 * journal, workflow copy), execute it and record the outcome. Returns the
 * exit code of SPEC section 6.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { defSha256, sha256 } from "../engine/hashes.ts";
import type { Dag } from "../graph/dag.ts";
import type { AppendableEvent, Mode } from "../journal/events.ts";
import { acquireLock } from "../runs/lock.ts";
import { ensureDir, newRunId, runDir } from "../runs/paths.ts";
import { appendRunIndex } from "../runs/index.ts";
import { createJournal } from "../journal/writer.ts";
import type { Reporter } from "../report/reporter.ts";
import { runtimeName } from "../platform/runtime.ts";
import { WfError } from "../util/result.ts";
import { VERSION } from "../version.ts";
import { missingVariables } from "../graph/variables.ts";
import { executeRun } from "./execute-run.ts";
import { loadForRun } from "./load.ts";
import { stateDirFrom } from "./lookup.ts";
import { describePlan } from "./plan.ts";

export interface RunFlags {
  readonly mode: Mode;
  readonly maxParallel: number;
  readonly keepGoing: boolean;
  readonly vars: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly printOutput: boolean;
  readonly dryRun: boolean;
  readonly exclusive: boolean;
  readonly stateDir?: string;
  readonly workflowsDir?: string;
}

export async function runCommand(
  target: string,
  flags: RunFlags,
  reporter: Reporter,
  out: (text: string) => void,
): Promise<number> {
  const { dag } = await loadForRun(target, flags.workflowsDir, new Set(Object.keys(flags.vars)));
  checkVariables(dag, new Set(Object.keys(flags.vars)), reporter);
  if (flags.dryRun) {
    out(describePlan(dag, flags.mode, flags.maxParallel));
    return 0;
  }

  const stateDir = stateDirFrom(flags.stateDir);
  await ensureDir(join(stateDir, "runs"));

  const releases: (() => Promise<void>)[] = [];
  try {
    if (flags.exclusive) {
      await ensureDir(join(stateDir, "locks"));
      const guard = await acquireLock(join(stateDir, "locks", `${dag.workflow.name}.lock`));
      if (!guard.ok) {
        const { pid, host } = guard.error;
        throw new WfError(`Cannot start "${dag.workflow.name}": another run of it is active (pid ${pid} on host "${host}")`, 3);
      }
      releases.push(guard.value.release);
    }
    const runId = newRunId();
    const dir = runDir(stateDir, runId);
    await ensureDir(join(dir, "logs"));
    const lock = await acquireLock(join(dir, "lock"));
    if (!lock.ok) throw new WfError(`Internal error: the new run "${runId}" is already locked`, 3);
    releases.push(lock.value.release);
    await copyFile(dag.workflow.file, join(dir, "workflow.toml"));
    const journal = await createJournal({ runDir: dir, runId, writer: `wf ${VERSION} (${runtimeName()})` });
    // Lets `wf runs` list the newest runs without opening every journal.
    await appendRunIndex(stateDir, { id: runId, workflow: dag.workflow.name, tags: [...dag.workflow.tags], started: new Date().toISOString() });
    const opening: AppendableEvent[] = [runStarted(dag, flags), { type: "run_status", status: "running" }];
    return await executeRun({ dag, flags, journal, reporter, runId, runDir: dir, opening });
  } finally {
    for (const release of releases.reverse()) await release().catch(() => {});
  }
}

/** SPEC section 2: a variable that a task needs and nobody passed stops the run before anything starts. */
export function checkVariables(dag: Dag, available: ReadonlySet<string>, reporter: Reporter): void {
  for (const missing of missingVariables(dag, available)) {
    const tasks = missing.tasks.map((t) => `"${t}"`).join(", ");
    const message = `Variable "${missing.name}" is needed by ${tasks} but nothing provides it: pass --var ${missing.name}=VALUE`;
    if (!missing.allIgnoreFailure) throw new WfError(message, 2);
    reporter.warn(`${message} (those tasks ignore failure, so they will fail without stopping the run)`);
  }
}

function runStarted(dag: Dag, flags: RunFlags): AppendableEvent {
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
  };
}
