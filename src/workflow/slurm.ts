/**
 * What the workflow file says about running a task on Slurm, as `sbatch` arguments. Pure: the
 * executor that submits jobs adds its own (--output, --error, --chdir, --export, the script).
 */
import type { Executor, SlurmSettings, TaskDef, Workflow } from "./types.ts";

/**
 * Where a task's attempts run: its own `executor` key, else `wf run --executor`, else the
 * top-level `executor` key, else on this host. A task that must stay on the submit host (or
 * must go to the cluster) says so itself, and no flag moves it.
 */
export function executorOf(workflow: Workflow, task: TaskDef, flag?: Executor): Executor {
  return task.executor ?? flag ?? workflow.executor ?? "local";
}

/**
 * The `sbatch` arguments for a task's settings, in a fixed order: --partition,
 * --cpus-per-task, --mem, --time, --account, --qos, then `args` as written (last, so that
 * they can add anything the keys do not cover). The time limit is `time`, else the task's
 * timeout; `time = "0"` gives none, leaving the partition's default.
 */
export function sbatchArgs(settings: SlurmSettings | undefined, timeoutMs?: number): string[] {
  const s = settings ?? {};
  const out: string[] = [];
  if (s.partition !== undefined) out.push(`--partition=${s.partition}`);
  if (s.cpus !== undefined) out.push(`--cpus-per-task=${s.cpus}`);
  if (s.mem !== undefined) out.push(`--mem=${s.mem}`);
  const limit = s.timeMs ?? timeoutMs;
  if (limit !== undefined && limit > 0) out.push(`--time=${slurmTime(limit)}`);
  if (s.account !== undefined) out.push(`--account=${s.account}`);
  if (s.qos !== undefined) out.push(`--qos=${s.qos}`);
  if (s.args !== undefined) out.push(...s.args);
  return out;
}

/**
 * A duration in Slurm's `D-HH:MM:SS` form (`HH:MM:SS` under a day), rounded up to a whole
 * second: a limit must not be shorter than asked. Slurm itself rounds up to whole minutes.
 */
export function slurmTime(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const days = Math.floor(total / 86_400);
  const two = (n: number) => String(n).padStart(2, "0");
  const hms = `${two(Math.floor(total / 3600) % 24)}:${two(Math.floor(total / 60) % 60)}:${two(total % 60)}`;
  return days > 0 ? `${days}-${hms}` : hms;
}
