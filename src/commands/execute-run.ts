/**
 * One execution of a run, for `wf run` and `wf resume`: journals the opening
 * records, executes the DAG while SIGINT, SIGTERM and `--timeout` can cancel
 * it, journals the final status, and returns the exit code.
 */
import { join } from "node:path";
import process from "node:process";
import { SPAWN_LOG } from "../platform/job.ts";
import { AttemptRunner } from "../engine/attempts.ts";
import { LocalExecutor } from "../engine/executors/local.ts";
import { SlurmExecutor } from "../engine/executors/slurm.ts";
import type { Executor } from "../workflow/types.ts";
import { execute, type PriorState } from "../engine/execute.ts";
import type { Dag } from "../graph/dag.ts";
import type { AppendableEvent, Mode } from "../journal/events.ts";
import type { JournalWriter } from "../journal/writer.ts";
import type { Reporter } from "../report/reporter.ts";
import { setLongTimeout } from "../util/timer.ts";
import { type Failure, type FsProblem, fsProblem, type Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { JOURNAL_FILE, JournalWriteError } from "../journal/writer.ts";
import { writeFileAtomically } from "../platform/output.ts";
import { renderMetrics } from "../report/metrics.ts";
import { foldJournalFile } from "../runs/open.ts";

/** Each log file is cut at this size, with a note where it was cut. */
export const LOG_CAP_BYTES = 64 * 1024 * 1024;

/** Signals turn into an abort with this reason, and into these exit codes. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** The flags `wf run` and `wf resume` share: how one execution runs. */
export interface ExecutionFlags {
  readonly mode: Mode;
  readonly maxParallel: number;
  readonly keepGoing: boolean;
  readonly vars: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly printOutput: boolean;
  /** The directory tasks run in (an absolute path). */
  readonly cwd: string;
  /** `--executor`: where tasks whose own `executor` key says nothing run. */
  readonly executor?: Executor;
  /** `--metrics-file`: where the run's outcome is written for Prometheus once it has a final status (an absolute path). */
  readonly metricsFile?: string;
}

export interface ExecuteRunInput {
  readonly dag: Dag;
  readonly flags: ExecutionFlags;
  readonly journal: JournalWriter;
  readonly reporter: Reporter;
  readonly runId: string;
  readonly runDir: string;
  /** Records appended (and reported) before anything runs. */
  readonly opening: readonly AppendableEvent[];
  readonly prior?: PriorState;
}

/** What `sbatch` needs from wf's environment whatever the task's is: where the cluster's configuration is. */
function slurmClientEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return env["SLURM_CONF"] === undefined ? {} : { SLURM_CONF: env["SLURM_CONF"] };
}

/** Permissions of the metrics file (less the umask): node_exporter runs as another user and must read it. */
const METRICS_MODE = 0o644;

/**
 * Writes the run's metrics (report/metrics.ts) to `path`, atomically: read
 * back from the journal, which now ends with the final status, so a resume
 * counts what earlier executions did as well.
 */
async function writeMetrics(input: ExecuteRunInput, path: string): Promise<Result<void, Failure>> {
  const failed = (problem: FsProblem): Result<never, Failure> => err({ kind: "fs", action: "write the metrics file", path, problem });
  const state = await foldJournalFile(join(input.runDir, JOURNAL_FILE), false);
  if (!state.ok) return err({ kind: "run-unusable", action: "read", runId: input.runId, problem: state.error });
  const text = renderMetrics(state.value, { live: false, now: Date.now() });
  const written = await writeFileAtomically(path, path, METRICS_MODE, async (sink) => void (await sink.write(text)));
  return written.ok || written.error.kind !== "fs" ? written : failed(written.error.problem);
}

/** Runs one execution; its exit code, or the failure that stopped it (a journal that cannot be written). */
export async function executeRun(input: ExecuteRunInput): Promise<Outcome> {
  const { dag, flags, journal, reporter } = input;
  const controller = new AbortController();
  // Read once: every task starts from the same environment, which the launcher receives once.
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;
  const spawner = new AttemptRunner(new LocalExecutor(join(input.runDir, SPAWN_LOG), baseEnv), () => new SlurmExecutor(slurmClientEnv(baseEnv)));
  const killAll = () => spawner.killAll();
  let signalled: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      // A second signal: end every task group now and leave; the journal keeps what was durable.
      killAll();
      process.exit(SIGNAL_EXIT[signal] ?? 130);
    }
    signalled = signal;
    controller.abort(`interrupted by ${signal}`);
  };
  /** The run stops without a final status, every task group ended; resume can go on once the problem is fixed. */
  const stopped = async (failure: Failure): Promise<Outcome> => {
    controller.abort("the journal could not be written");
    killAll();
    await journal.close().catch(() => {});
    return err(failure);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A long timer: setTimeout alone fires at once from 2^31 ms ("600h") on.
  const timer =
    flags.timeoutMs === undefined
      ? undefined
      : setLongTimeout(() => controller.abort(`run timed out after ${flags.timeoutMs! / 1000}s`), flags.timeoutMs);
  try {
    for (const event of input.opening) reporter.record(await journal.append(event));
    // A journal failure while writing these is caught below, like one inside the engine.
    const executed = await execute(
      dag,
      {
        mode: flags.mode,
        maxParallel: flags.maxParallel,
        keepGoing: flags.keepGoing,
        cliVars: flags.vars,
        printOutput: flags.printOutput,
        cwd: flags.cwd,
        baseEnv,
        logCapBytes: LOG_CAP_BYTES,
        ...(flags.executor === undefined ? {} : { executor: flags.executor }),
      },
      { runId: input.runId, runDir: input.runDir, journal, spawner, reporter, abort: controller.signal },
      input.prior,
    );
    // The engine has ended every task group; the run stops without a final status (resume can go on).
    if (!executed.ok) return stopped(executed.error);
    const outcome = executed.value;
    const reason = outcome.status === "cancelled" ? String(controller.signal.reason) : outcome.reason;
    const final = await journal.append({
      type: "run_status",
      status: outcome.status,
      ...(reason === undefined ? {} : { reason }),
    });
    await journal.close();
    reporter.record(final);
    // The outcome is journaled: a metrics file that cannot be written is a warning, and the exit code stays the run's.
    if (flags.metricsFile !== undefined) {
      const written = await writeMetrics(input, flags.metricsFile);
      if (!written.ok) reporter.problem(written.error);
    }
    if (outcome.status === "success") return ok(0);
    if (outcome.status === "cancelled" && signalled !== undefined) return ok(SIGNAL_EXIT[signalled] ?? 130);
    return ok(1);
  } catch (e) {
    // A journal write failed outside the engine (an opening line, the final status); anything else is a bug.
    if (e instanceof JournalWriteError) return stopped(e.failure);
    controller.abort("internal error");
    killAll();
    throw e;
  } finally {
    spawner.close();
    timer?.clear();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    reporter.close();
  }
}
