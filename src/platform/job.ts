/**
 * A detached job as both sides of the launcher see it: the requests `wf`
 * sends, the reports it gets back, and what a job leaves in the run's folder,
 * which outlives everyone: a line in the run's spawn log when it starts (its
 * identity, appended), and a status file beside its logs when it ends
 * (temporary file, then rename). A later `wf resume` reads them to adopt a
 * result or re-attach to a job.
 *
 *   spawned.jsonl  +{"status":"<name>.status", pid, proc_start, boot_id, started, deadline?}
 *   <name>.status   {"state":"exited", ..., exit_code, signal, timed_out, tails}   once it ended,
 *                   unless wf acknowledged that its journal has the result
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";


/** Who a local job is: a pid alone may be reused, a pid with its start time and the boot id may not. */
export interface JobIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null where /proc cannot be read. */
  readonly proc_start: number | null;
  readonly boot_id: string | null;
}

/** How a job ended. */
export interface JobResult {
  readonly exit_code: number | null;
  readonly signal: string | null;
  /** Its timeout ended it (the whole process group). */
  readonly timed_out: boolean;
  readonly duration_ms: number;
  /** A log grew past the cap: what came after the cap is not in the file. */
  readonly log_truncated: boolean;
  /** A log could not be opened: that stream's output is lost. */
  readonly log_error?: { readonly path: string; readonly problem: string };
  /** The job could not be started at all, and why. */
  readonly spawn_error?: string;
  /** The last bytes of each stream as written (the output after a cap included), at most TAIL_BYTES each. */
  readonly stdout_tail: string;
  readonly stderr_tail: string;
}

/**
 * A node's id as it stands in the names of its job's files and of its Slurm
 * job: matrix values may hold any character, so all but letters, digits and
 * `._=,[]-` become `_`.
 */
export function nameSafe(node: string): string {
  return node.replace(/[^A-Za-z0-9._=,[\]-]/g, "_");
}

/** The bytes of each stream kept for `register` and error messages. */
export const TAIL_BYTES = 4096;

/** One attempt, as `wf` asks the launcher to run it. */
export interface JobSpec {
  readonly cmd: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Absolute paths. */
  readonly stdout: string;
  readonly stderr: string;
  readonly status: string;
  /** The launcher ends the job's group after this long, even when `wf` is gone. */
  readonly timeout_ms?: number;
  /** Each log is cut at this many bytes. */
  readonly cap: number;
}

/** A job's environment on the wire: the launcher's base with some variables set, or whole (for `clean_env`). */
export type WireEnv = { readonly add: Readonly<Record<string, string>> } | { readonly whole: Readonly<Record<string, string>> };

export type LauncherRequest =
  /** Sent first: where to append spawn records, and the environment most jobs start from. */
  | { readonly op: "init"; readonly spawn_log: string; readonly base_env: Readonly<Record<string, string>> }
  /** Start a job. */
  | { readonly op: "start"; readonly id: number; readonly job: Omit<JobSpec, "env"> & { readonly env: WireEnv } }
  /** End a job's process group: SIGTERM, then SIGKILL after the grace period. */
  | { readonly op: "stop"; readonly id: number }
  /** The job's result is durable in the journal: its status file need not be written. */
  | { readonly op: "ack"; readonly id: number };

export type LauncherReport =
  /** The job runs; its identity is in its status file. */
  | { readonly ev: "spawned"; readonly id: number; readonly identity: JobIdentity }
  /** The job ended (or never started); wf acknowledges it once journaled, or its status file says so. */
  | { readonly ev: "exited"; readonly id: number; readonly result: JobResult };

/** A line of the run's spawn log: a job started. `status` is its status file's name (in `logs/`). */
export type SpawnRecord = { readonly status: string; readonly started: string; readonly deadline?: number } & JobIdentity;

/** A launcher started (its own identity), or, once its wf is gone, has written every status file that wf did not journal. */
export type LauncherRecord =
  | { readonly launcher: number; readonly proc_start: number | null; readonly boot_id: string | null; readonly started: string }
  | { readonly settled: number };

/** A status file's content, or undefined when it is missing, unreadable or not one. */
export function readStatusFile(path: string): JobStatus | undefined {
  try {
    return parseStatus(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** The run's spawn log read from its folder, or undefined when there is none (no job was started). */
export function readSpawnLog(runDir: string): ReturnType<typeof parseSpawnLog> | undefined {
  try {
    return parseSpawnLog(readFileSync(join(runDir, SPAWN_LOG), "utf8"));
  } catch {
    return undefined;
  }
}

/** A line of the spawn log. */
export type SpawnLogLine = SpawnRecord | LauncherRecord;

/** The run's spawn log, in the run's folder: one line per launcher and per job, appended by each execution's launcher. */
export const SPAWN_LOG = "spawned.jsonl";

/** What a status file holds. */
export type JobStatus = { readonly state: "exited"; readonly started: string; readonly ended: string } & Partial<JobIdentity> & JobResult;

/** The status file's text for `status`, one JSON line. */
export function formatStatus(status: JobStatus): string {
  return `${JSON.stringify(status)}\n`;
}

/** A status file's content, or undefined when it is not one (torn, empty, or something else). */
export function parseStatus(text: string): JobStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const s = value as Record<string, unknown>;
  const intOrNull = (x: unknown) => x === null || Number.isInteger(x);
  if (s["state"] === "exited") {
    if (!intOrNull(s["exit_code"]) || !(s["signal"] === null || typeof s["signal"] === "string")) return undefined;
    if (typeof s["timed_out"] !== "boolean" || !Number.isInteger(s["duration_ms"])) return undefined;
    if (typeof s["stdout_tail"] !== "string" || typeof s["stderr_tail"] !== "string") return undefined;
    return value as JobStatus;
  }
  return undefined;
}

/** A spawn log's lines: its jobs, its launchers, and the pids of launchers that settled. Lines that are neither (a torn last line) are left out. */
export function parseSpawnLog(text: string): { jobs: SpawnRecord[]; launchers: JobIdentity[]; settled: Set<number> } {
  const jobs: SpawnRecord[] = [];
  const launchers: JobIdentity[] = [];
  const settled = new Set<number>();
  const identity = (r: Record<string, unknown>) =>
    (r["proc_start"] === null || Number.isInteger(r["proc_start"])) && (r["boot_id"] === null || typeof r["boot_id"] === "string");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn line: the launcher was killed while writing it
    }
    if (typeof r !== "object" || r === null) continue;
    if (Number.isInteger(r["settled"])) settled.add(r["settled"] as number);
    else if (Number.isInteger(r["launcher"]) && identity(r)) {
      launchers.push({ pid: r["launcher"] as number, proc_start: r["proc_start"] as number | null, boot_id: r["boot_id"] as string | null });
    } else if (typeof r["status"] === "string" && Number.isInteger(r["pid"]) && typeof r["started"] === "string" && identity(r)) {
      jobs.push(r as unknown as SpawnRecord);
    }
  }
  return { jobs, launchers, settled };
}
