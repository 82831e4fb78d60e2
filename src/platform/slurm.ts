/**
 * The only code that talks to Slurm: `sbatch` to submit an attempt's job, `squeue` to learn
 * the state of many jobs in one call, `scancel` to end one. Every call passes its arguments
 * as an array (no shell), and Slurm's output is parsed here.
 *
 * A job runs a small `sh` script (jobScript) that runs the task's command with `/bin/sh -c`
 * and then writes the attempt's status file (temporary file, then `mv`), the same JSON as a
 * local job's, with its `job_id`. The tails of the logs are left empty there: the logs are on
 * the shared filesystem, and `wf` reads their last bytes itself.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { type JobSpec, nameSafe, type StatusOwner } from "./job.ts";

/** The states in which a job may still run, or write its status file. */
const ACTIVE = new Set([
  "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
  "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT", "PREEMPTED",
]);

/** A state `squeue` reports (`RUNNING`, `CANCELLED`, ...) means the job may still run or write. */
export function isActive(state: string): boolean {
  return ACTIVE.has(state);
}

/** Where `sbatch` is on PATH, or undefined. */
export function findSbatch(path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "sbatch");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * One attempt as a job: what a local job has (`env` is `sbatch`'s own
 * environment, which the job gets whole with `--export=ALL`), without the
 * timeout and log cap the launcher enforces, and with its name and options.
 */
export interface SlurmJobSpec extends Pick<JobSpec, "cmd" | "cwd" | "env" | "stdout" | "stderr" | "status"> {
  readonly jobName: string;
  /** From the workflow file (workflow/slurm.ts's sbatchArgs). */
  readonly args: readonly string[];
  /** Whose attempt it is: the status file names them. */
  readonly owner?: StatusOwner;
}

/** The name of an attempt's job: `wf-<run id>-<node>`, the node's unusual characters replaced. */
export function jobName(runId: string, task: string): string {
  return `wf-${runId}-${nameSafe(task)}`;
}

/** A string as one `sh` word. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The batch script of an attempt: runs the command, then writes the status file, which names
 * `owner` (the run, node and attempt) when given. The owner's JSON goes in as one `printf %s`
 * argument, so no character of a node's name is read by the shell or by printf.
 */
export function jobScript(cmd: string, statusPath: string, owner?: StatusOwner): string {
  const now = "date -u +%Y-%m-%dT%H:%M:%S.%3NZ";
  return [
    "#!/bin/sh",
    "# Written by wf: runs the task's command, then writes the attempt's status file.",
    `wf_status=${shQuote(statusPath)}`,
    `wf_started=$(${now})`,
    "wf_t0=$(date +%s%3N)",
    `/bin/sh -c ${shQuote(cmd)} </dev/null`,
    "wf_code=$?",
    "wf_t1=$(date +%s%3N)",
    `wf_ended=$(${now})`,
    `printf '{"state":"exited",%s"started":"%s","ended":"%s","exit_code":%d,"signal":null,"timed_out":false,"duration_ms":%d,"log_truncated":false,"stdout_tail":"","stderr_tail":"","job_id":"%s"}\\n' \\`,
    `  ${shQuote(owner === undefined ? "" : `${JSON.stringify(owner).slice(1, -1)},`)} "$wf_started" "$wf_ended" "$wf_code" "$((wf_t1 - wf_t0))" "$SLURM_JOB_ID" >"$wf_status.tmp.$$" &&`,
    '  mv -f "$wf_status.tmp.$$" "$wf_status"',
    'exit "$wf_code"',
    "",
  ].join("\n");
}

/** The `sbatch` arguments for a job: wf's own options first, then the workflow file's. */
export function submitArgs(spec: SlurmJobSpec): string[] {
  return [
    "--parsable", "--no-requeue", `--job-name=${spec.jobName}`, `--output=${spec.stdout}`, `--error=${spec.stderr}`,
    `--chdir=${spec.cwd}`, "--export=ALL", ...spec.args,
  ];
}

/** Submits a job (its script on stdin): its id, or what `sbatch` said when it refused. */
export function submit(spec: SlurmJobSpec): Promise<{ ok: true; jobId: string } | { ok: false; message: string }> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    const child = spawn("sbatch", submitArgs(spec), { cwd: spec.cwd, env: spec.env, stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, message: e.code === "ENOENT" ? "sbatch is not on PATH" : `sbatch: ${e.code ?? e.message}` }));
    child.on("close", (code) => {
      // --parsable prints "<id>" or "<id>;<cluster>".
      const id = /^(\d+)(;\S+)?$/.exec(stdout.trim())?.[1];
      if (code === 0 && id !== undefined) resolve({ ok: true, jobId: id });
      else resolve({ ok: false, message: oneLine(stderr) || `sbatch exited with status ${code}` });
    });
    child.stdin.on("error", () => {}); // sbatch may exit before reading its script; its exit says why
    child.stdin.end(jobScript(spec.cmd, spec.status, spec.owner));
  });
}

function oneLine(text: string): string {
  return text.trim().split("\n").map((l) => l.trim()).filter((l) => l !== "").join("; ");
}

const QUERY_FORMAT = "%i|%T";

/** Parses `squeue --format=%i|%T` lines: job id to state. */
export function parseStates(text: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [id, state] = line.trim().split("|");
    if (id && state) states.set(id, state);
  }
  return states;
}

function queryArgs(ids: readonly string[]): string[] {
  return ["--noheader", "--states=all", `--jobs=${ids.join(",")}`, `--format=${QUERY_FORMAT}`];
}

/**
 * The state of each job Slurm still knows (ended jobs stay for MinJobAge); jobs it does not
 * know are left out. Undefined when `squeue` could not be asked (the controller does not
 * answer): the caller asks again later.
 */
export function jobStates(ids: readonly string[], env?: Readonly<Record<string, string | undefined>>): Promise<Map<string, string> | undefined> {
  if (ids.length === 0) return Promise.resolve(new Map());
  return new Promise((resolve) => {
    execFile("squeue", queryArgs(ids), { timeout: 30_000, ...(env === undefined ? {} : { env }) }, (error, stdout, stderr) => {
      if (error === null) resolve(parseStates(stdout));
      // Every id unknown: squeue says so and exits 1.
      else if (/Invalid job id/i.test(stderr)) resolve(new Map());
      else resolve(undefined);
    });
  });
}

/** jobStates, waiting for the answer (for `wf resume` and `wf runs`, which read a run at a time). */
export function jobStatesSync(ids: readonly string[]): Map<string, string> | undefined {
  if (ids.length === 0) return new Map();
  try {
    return parseStates(execFileSync("squeue", queryArgs(ids), { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] }));
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? "");
    return /Invalid job id/i.test(stderr) ? new Map() : undefined;
  }
}

/** Asks Slurm to end a job (`scancel`); resolves once scancel has returned, whatever it said. */
export function cancel(jobId: string, env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  return new Promise((resolve) => {
    execFile("scancel", [jobId], { timeout: 30_000, ...(env === undefined ? {} : { env }) }, () => resolve());
  });
}

/** Cancels jobs and waits for `scancel` (for a `wf` about to exit). */
export function cancelSync(jobIds: readonly string[], env?: Readonly<Record<string, string | undefined>>): void {
  if (jobIds.length === 0) return;
  try {
    execFileSync("scancel", [...jobIds], { timeout: 30_000, stdio: "ignore", ...(env === undefined ? {} : { env }) });
  } catch {
    // Nothing more can be done by a wf that is leaving; a resume finds what is left.
  }
}

/**
 * The ids of jobs named `name` that are pending or running, waiting for the answer; undefined
 * when squeue could not be asked. For a resume whose wf died before it journaled a job id.
 */
export function activeJobsNamedSync(name: string): string[] | undefined {
  try {
    const text = execFileSync("squeue", ["--noheader", `--name=${name}`, `--format=${QUERY_FORMAT}`], { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
    return [...parseStates(text)].filter(([, state]) => isActive(state)).map(([id]) => id);
  } catch {
    return undefined;
  }
}
