/**
 * The test cluster itself (scripts/slurm-cluster.sh, slurm.ts): real jobs through `sbatch`,
 * and the scheduler's own records of them, which the Slurm executor's tests count on. What
 * these show is written up in docs/slurm.md, "What Slurm reports".
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import { collect, type RunResult, until } from "./rig.ts";
import { type SlurmCluster, slurmCluster, slurmSuite } from "./slurm.ts";

const slurm = await slurmCluster();

/** Runs a Slurm client command against the cluster. */
function client(cluster: SlurmCluster, args: string[], cwd: string): Promise<RunResult> {
  const child = spawn(args[0]!, args.slice(1), {
    cwd,
    env: { ...process.env, ...cluster.env },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  return collect(child, { timeoutMs: 120_000 });
}

/** The job id in sbatch's "Submitted batch job 12" or --parsable "12". */
function jobId(stdout: string): string {
  const id = /(\d+)\s*$/.exec(stdout.trim())?.[1];
  assert.ok(id, `no job id in ${JSON.stringify(stdout)}`);
  return id;
}

/** The jobcomp record of job `id` as fields (JobState, ExitCode, ...), once it is written. */
async function record(cluster: SlurmCluster, id: string): Promise<Record<string, string>> {
  let line: string | undefined;
  await until(`the jobcomp record of job ${id}`, async () => {
    const text = await readFile(cluster.jobcomp, "utf8").catch(() => "");
    line = text.split("\n").find((l) => l.startsWith(`JobId=${id} `));
    return line !== undefined;
  }, 120_000);
  return Object.fromEntries(line!.trim().split(" ").map((field) => {
    const eq = field.indexOf("=");
    return [field.slice(0, eq), field.slice(eq + 1)];
  }));
}

slurmSuite("a single-node Slurm cluster", slurm, (cluster) => {
  let dir = "";
  const workDir = async () => (dir ||= await mkdtemp(join(tmpdir(), "wf-slurm-test-")));
  after(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  test("sbatch --wait runs a job in --chdir with --export, writes --output and --error, and jobcomp records it COMPLETED", async () => {
    const cwd = await workDir();
    const r = await client(cluster, [
      "sbatch", "--wait", "--chdir", cwd, "--output", "out.log", "--error", "err.log",
      "--export", "ALL,WF_TEST_VALUE=from-export", "--wrap", 'pwd; echo "value=$WF_TEST_VALUE"; echo to-stderr >&2',
    ], cwd);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const id = jobId(r.stdout);
    assert.equal(r.stdout, `Submitted batch job ${id}\n`);
    // --output and --error are relative to --chdir.
    assert.equal(await readFile(join(cwd, "out.log"), "utf8"), `${cwd}\nvalue=from-export\n`);
    assert.equal(await readFile(join(cwd, "err.log"), "utf8"), "to-stderr\n");
    const rec = await record(cluster, id);
    assert.equal(rec["JobState"], "COMPLETED");
    assert.equal(rec["ExitCode"], "0:0");
    assert.equal(rec["WorkDir"], cwd);
  });

  test("a job that exits 3 makes sbatch --wait exit 3, and jobcomp records it FAILED with ExitCode=3:0", async () => {
    const cwd = await workDir();
    const r = await client(cluster, ["sbatch", "--wait", "--output", "/dev/null", "--wrap", "exit 3"], cwd);
    assert.equal(r.code, 3);
    const rec = await record(cluster, jobId(r.stdout));
    assert.equal(rec["JobState"], "FAILED");
    assert.equal(rec["ExitCode"], "3:0");
  });

  test("a job cancelled with scancel is CANCELLED in jobcomp and its log says so", async () => {
    const cwd = await workDir();
    const submit = await client(cluster, ["sbatch", "--parsable", "--output", "cancel.log", "--wrap", "echo started; sleep 600"], cwd);
    assert.equal(submit.code, 0, submit.stderr);
    const id = jobId(submit.stdout);
    await until(`job ${id} running`, async () => {
      const q = await client(cluster, ["squeue", "--noheader", "--jobs", id, "--format", "%T"], cwd);
      return q.stdout.trim() === "RUNNING" && (await readFile(join(cwd, "cancel.log"), "utf8").catch(() => "")) !== "";
    }, 120_000); // the cluster's CPUs may be busy with the other Slurm tests' jobs
    const cancel = await client(cluster, ["scancel", id], cwd);
    assert.equal(cancel.code, 0, cancel.stderr);
    const rec = await record(cluster, id);
    assert.equal(rec["JobState"], "CANCELLED");
    // jobcomp may be written while scontrol still says COMPLETING.
    let show = "";
    await until(`job ${id} no longer COMPLETING`, async () => {
      show = (await client(cluster, ["scontrol", "show", "job", id], cwd)).stdout;
      return !show.includes("JobState=COMPLETING");
    });
    assert.match(show, /JobState=CANCELLED Reason=None/);
    // SIGTERM reaches the batch shell and its child in no set order: the shell either dies of it
    // (0:15) or first sees its child die of it and exits 128 + 15 (143:0).
    assert.match(show, /ExitCode=(0:15|143:0)/);
    // slurmstepd's notice, and in the 143:0 case the batch shell's "Terminated" note, in either order.
    const log = await readFile(join(cwd, "cancel.log"), "utf8");
    const notice = `slurmstepd-\\S+: error: \\*\\*\\* JOB ${id} ON \\S+ CANCELLED AT \\S+ \\*\\*\\*`;
    assert.match(log, new RegExp(`^started\\n(${notice}\\n|Terminated\\n${notice}\\n|${notice}\\nTerminated\\n)$`));
    if (log.includes("Terminated")) assert.match(show, /ExitCode=143:0/);
  });
});
