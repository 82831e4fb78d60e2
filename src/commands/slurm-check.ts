/**
 * The checks `wf run` and `wf resume` make before anything runs when a task will run on
 * Slurm: `sbatch` is on PATH, and a first small job can write a file in the folder where the
 * run's logs and status files go (the compute nodes must share it with this host).
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Dag } from "../graph/dag.ts";
import { cancel, findSbatch, isActive, jobStates, submit } from "../platform/slurm.ts";
import type { Failure } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { executorOf, sbatchArgs } from "../workflow/slurm.ts";
import type { Executor } from "../workflow/types.ts";

/** How long the first job may take to show that it can write to the run's folder. */
const CHECK_MS = 60_000;

/** The first task (forensic tasks included) whose attempts would run on Slurm, if any. */
export function firstSlurmTask(dag: Dag, flag: Executor | undefined): string | undefined {
  for (const id of dag.order) if (executorOf(dag.workflow, dag.nodes.get(id)!.task, flag) === "slurm") return id;
  for (const [id, def] of dag.forensic) if (executorOf(dag.workflow, def, flag) === "slurm") return id;
  return undefined;
}

/** `sbatch` must be on PATH when `task` will run on Slurm. */
export function checkSbatch(task: string, env: Readonly<Record<string, string | undefined>>): Result<void, Failure> {
  return findSbatch(env["PATH"]) === undefined ? err({ kind: "slurm-missing", task }) : ok(undefined);
}

/**
 * Submits a job that writes a file in `dir` and waits for the file (CHECK_MS at most): the
 * compute nodes see the folder. The job asks for what the top-level `[slurm]` table asks.
 */
export async function checkSharedDir(dag: Dag, dir: string, env: Readonly<Record<string, string | undefined>>): Promise<Result<void, Failure>> {
  const file = join(dir, `.wf-slurm-check-${randomBytes(6).toString("hex")}`);
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const failed = (reason: string) => err<Failure>({ kind: "slurm-check", dir, reason });
  const submitted = await submit({
    cmd: "true", cwd: dir, env: clean, stdout: "/dev/null", stderr: "/dev/null", status: file,
    jobName: "wf-check", args: sbatchArgs(dag.workflow.slurm).filter((a) => !a.startsWith("--time=")),
  });
  if (!submitted.ok) return failed(`sbatch refused it: ${submitted.message}`);
  const start = Date.now();
  let lastQuery = 0;
  let state: string | undefined;
  let goneSince: number | undefined;
  try {
    for (;;) {
      if (existsSync(file)) return ok(undefined);
      const now = Date.now();
      if (goneSince !== undefined && now - goneSince > 3000) return failed(`it ended (${state ?? "unknown"}) without writing its file`);
      if (now - start > CHECK_MS) {
        await cancel(submitted.jobId);
        return failed(`it did not end within ${CHECK_MS / 1000} seconds (job ${submitted.jobId}, ${state ?? "unknown"})`);
      }
      if (now - lastQuery >= 1000) {
        lastQuery = now;
        const states = await jobStates([submitted.jobId]);
        if (states !== undefined) {
          state = states.get(submitted.jobId) ?? state;
          if (states.has(submitted.jobId) && isActive(states.get(submitted.jobId)!)) goneSince = undefined;
          else goneSince ??= now;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await rm(file, { force: true }).catch(() => {});
  }
}
