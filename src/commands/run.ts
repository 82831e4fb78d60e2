/**
 * `wf run`: validate, check variables, then create the run (directory, lock,
 * journal, workflow copy), execute it and record the outcome. Returns the
 * exit code of SPEC section 6.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { ProcessSpawner } from "../engine/executor.ts";
import { execute, type Outcome } from "../engine/execute.ts";
import type { Dag } from "../graph/dag.ts";
import type { Mode } from "../journal/events.ts";
import { acquireLock } from "../journal/lock.ts";
import { ensureDir, newRunId, resolveStateDir, runDir } from "../journal/state-dir.ts";
import { createJournal, type JournalWriter } from "../journal/writer.ts";
import type { Reporter } from "../report/reporter.ts";
import { runtimeName } from "../runtime.ts";
import { WfError } from "../util/result.ts";
import { VERSION } from "../version.ts";
import { missingVariables } from "../workflow/vars.ts";
import { loadForRun } from "./load.ts";
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

/** Each log file is cut at this size, with a note where it was cut. */
export const LOG_CAP_BYTES = 64 * 1024 * 1024;

/** Signals turn into an abort with this reason, and into these exit codes. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

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

  const stateDir = resolveStateDir({ flag: flags.stateDir, env: process.env });
  if (!stateDir.ok) throw new WfError(stateDir.error, 2);
  await ensureDir(join(stateDir.value, "runs"));

  const releases: (() => Promise<void>)[] = [];
  try {
    if (flags.exclusive) {
      await ensureDir(join(stateDir.value, "locks"));
      const guard = await acquireLock(join(stateDir.value, "locks", `${dag.workflow.name}.lock`));
      if (!guard.ok) {
        const { pid, host } = guard.error;
        throw new WfError(`Cannot start "${dag.workflow.name}": another run of it is active (pid ${pid} on host "${host}")`, 3);
      }
      releases.push(guard.value.release);
    }
    const runId = newRunId();
    const dir = runDir(stateDir.value, runId);
    await ensureDir(join(dir, "logs"));
    const lock = await acquireLock(join(dir, "lock"));
    if (!lock.ok) throw new WfError(`Internal error: the new run "${runId}" is already locked`, 3);
    releases.push(lock.value.release);
    await copyFile(dag.workflow.file, join(dir, "workflow.toml"));
    const journal = await createJournal({ runDir: dir, runId, writer: `wf ${VERSION} (${runtimeName()})` });
    return await executeWithSignals(dag, flags, journal, reporter, runId, dir);
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

export function fileSha256(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

/** A hash of everything in a task's definition that changes what it does. */
function defSha256(dag: Dag, id: string): string {
  const node = dag.nodes.get(id as never)!;
  const { location: _location, ...def } = node.task;
  return createHash("sha256").update(JSON.stringify([def, node.matrix])).digest("hex");
}

async function executeWithSignals(
  dag: Dag,
  flags: RunFlags,
  journal: JournalWriter,
  reporter: Reporter,
  runId: string,
  runDir: string,
): Promise<number> {
  const controller = new AbortController();
  const spawner = new ProcessSpawner();
  let signalled: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      // A second signal: end every task group now and leave; the journal keeps what was durable.
      spawner.killAll();
      process.exit(SIGNAL_EXIT[signal] ?? 130);
    }
    signalled = signal;
    controller.abort(`interrupted by ${signal}`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const timer =
    flags.timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(`run timed out after ${flags.timeoutMs! / 1000}s`), flags.timeoutMs);
  try {
    await journal.append({
      type: "run_started",
      workflow: dag.workflow.name,
      file: resolve(dag.workflow.file),
      file_sha256: fileSha256(dag.workflow.source),
      tags: [...dag.workflow.tags],
      nodes: dag.order.map((id) => {
        const node = dag.nodes.get(id)!;
        return { id, task: node.task.id, deps: [...node.deps], def_sha256: defSha256(dag, id) };
      }),
      mode: flags.mode,
      max_parallel: flags.mode === "sequential" ? 1 : flags.maxParallel,
      var_names: Object.keys(flags.vars),
      host: hostname(),
      pid: process.pid,
      wf_version: VERSION,
      runtime: runtimeName(),
    }).then((r) => reporter.record(r));
    await journal.append({ type: "run_status", status: "running" }).then((r) => reporter.record(r));
    const outcome: Outcome = await execute(
      dag,
      {
        mode: flags.mode,
        maxParallel: flags.maxParallel,
        keepGoing: flags.keepGoing,
        cliVars: flags.vars,
        printOutput: flags.printOutput,
        cwd: process.cwd(),
        baseEnv: process.env,
        logCapBytes: LOG_CAP_BYTES,
      },
      { runId, runDir, journal, spawner, reporter, abort: controller.signal },
    );
    const reason = outcome.status === "cancelled" ? String(controller.signal.reason) : undefined;
    const final = await journal.append({
      type: "run_status",
      status: outcome.status,
      ...(reason === undefined ? {} : { reason }),
    });
    await journal.close();
    reporter.record(final);
    if (outcome.status === "success") return 0;
    if (outcome.status === "cancelled" && signalled !== undefined) return SIGNAL_EXIT[signalled] ?? 130;
    return 1;
  } catch (e) {
    controller.abort("the journal could not be written");
    spawner.killAll();
    throw e;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    reporter.close();
  }
}
