/**
 * A detached job as both sides of the launcher see it: the requests `wf`
 * sends, the reports it gets back, and what a job leaves in the run's folder,
 * which outlives everyone: a line in the run's spawn log when it starts (its
 * identity, appended), a line there from the job's own shell when its command
 * ends (its exit status, as the shell saw it), and a status file beside its
 * logs when it ends (temporary file, then rename). A later `wf resume`, or a
 * `wf` whose launcher died, reads them to adopt a result or watch a job.
 *
 *   spawned.jsonl  +{"status":"<name>.status", pid, proc_start, boot_id, started, deadline?}   launcher, before the command starts
 *                  +{"exited":"<name>.status","code":N}       the job's shell, once the command ended
 *                  +{"exited":"<name>.status","not_run":true}  the job's shell, when its launcher died before saying "go"
 *   <name>.status   {"state":"exited", run, node, attempt, ..., exit_code, signal, timed_out, tails}   once it ended,
 *                   unless wf acknowledged that its journal has the result
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, readSync, statfsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";


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
  /**
   * A log could not be opened, or its file system was full while the job ran
   * (`disk-full`, see logsFull): that stream's output is lost, or may be.
   */
  readonly log_error?: { readonly path: string; readonly problem: string };
  /** The job could not be started at all, and why. */
  readonly spawn_error?: string;
  /** The last bytes of each stream as written (the output after a cap included), at most TAIL_BYTES each. */
  readonly stdout_tail: string;
  readonly stderr_tail: string;
}

/** An id that stands in a file name as it is. */
const SAFE_NAME = /^[A-Za-z0-9._=,[\]-]{1,160}$/;

/**
 * A node's id as it stands in the names of its job's files and of its Slurm
 * job. An id of letters, digits and `._=,[]-` (at most 160) is itself; any
 * other (a matrix value with `/`, a space, a quote, a letter outside ASCII)
 * has those characters as `_`, is cut at 100, and ends in `~` and 12 hex
 * digits of its SHA-256: `t[p=a_b]~3f9a0c1d2e4b`. No two ids share a name
 * (a safe id has no `~`), and the name stays far below the 255-byte limit.
 */
export function nameSafe(node: string): string {
  if (SAFE_NAME.test(node)) return node;
  const readable = node.replace(/[^A-Za-z0-9._=,[\]-]/g, "_").slice(0, 100);
  return `${readable}~${createHash("sha256").update(node).digest("hex").slice(0, 12)}`;
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
  /** Whose attempt this is: written into the status file, and checked by whoever adopts it. */
  readonly owner: StatusOwner;
}

/** The run, node and attempt a status file is for. */
export interface StatusOwner {
  readonly run: string;
  readonly node: string;
  readonly attempt: number;
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
  | { readonly op: "ack"; readonly id: number }
  /** Are you there? Answered with pong: a launcher that does not answer is treated as dead. */
  | { readonly op: "ping" };

export type LauncherReport =
  /** The job runs; its identity is in its status file. */
  | { readonly ev: "spawned"; readonly id: number; readonly identity: JobIdentity }
  /** The job ended (or never started); wf acknowledges it once journaled, or its status file says so. */
  | { readonly ev: "exited"; readonly id: number; readonly result: JobResult }
  /** The answer to ping. */
  | { readonly ev: "pong" };

/** A line of the run's spawn log: a job started. `status` is its status file's name (in `logs/`). */
export type SpawnRecord = {
  readonly status: string;
  readonly started: string;
  readonly deadline?: number;
  /** The pid of the launcher that started it (the one that writes its status file). */
  readonly by?: number;
} & JobIdentity;

/** A launcher started (its own identity), or, once its wf is gone, has written every status file that wf did not journal. */
export type LauncherRecord =
  | { readonly launcher: number; readonly proc_start: number | null; readonly boot_id: string | null; readonly started: string }
  | { readonly settled: number }
  /** A status file could not be written (and is retried while the launcher lives). */
  | { readonly status_error: string; readonly problem: string };

/** What a job's own shell says when it ends: the command's exit status as `$?` has it, or that it never ran the command. */
export type ExitRecord = { readonly exited: string; readonly code: number } | { readonly exited: string; readonly not_run: true };

/** A status file's content, or undefined when it is missing, unreadable or not one. */
export function readStatusFile(path: string): JobStatus | undefined {
  try {
    return parseStatus(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** The run's spawn log read from its folder, or undefined when there is none (no job was started). */
export function readSpawnLog(runDir: string): SpawnLog | undefined {
  try {
    return parseSpawnLog(readFileSync(join(runDir, SPAWN_LOG), "utf8"));
  } catch {
    return undefined;
  }
}

/** A line of the spawn log. */
export type SpawnLogLine = SpawnRecord | LauncherRecord | ExitRecord;

/** The run's spawn log, in the run's folder: one line per launcher and per job, appended by each execution's launcher. */
export const SPAWN_LOG = "spawned.jsonl";

/** What a status file holds. */
export type JobStatus = { readonly state: "exited"; readonly started: string; readonly ended: string } & Partial<StatusOwner> & Partial<JobIdentity> & JobResult;

/**
 * The status file is the one `owner` may adopt: it names that run, node and
 * attempt. A file without those names (written before they existed, or by a
 * Slurm job script of an older wf) is taken as the attempt's, as its path says.
 */
export function statusBelongsTo(status: JobStatus, owner: StatusOwner): boolean {
  if (status.run === undefined && status.node === undefined && status.attempt === undefined) return true;
  return status.run === owner.run && status.node === owner.node && status.attempt === owner.attempt;
}

/**
 * Signals whose default action ends a process: a shell reports a command they
 * ended as exit status 128 + N, and that is how a job's own shell line is read.
 */
const ENDING_SIGNALS: Readonly<Record<number, string>> = {
  1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL",
  10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT",
  24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
};

/** The exit status a shell's `$?` holds, as an exit code or a signal: 128 + N for an ending signal N is that signal. */
export function shellStatus(code: number): { readonly exit_code: number | null; readonly signal: string | null } {
  const signal = code > 128 ? ENDING_SIGNALS[code - 128] : undefined;
  return signal === undefined ? { exit_code: code, signal: null } : { exit_code: null, signal };
}

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

/** A parsed spawn log. */
export interface SpawnLog {
  readonly jobs: SpawnRecord[];
  readonly launchers: JobIdentity[];
  readonly settled: Set<number>;
  /** What each job's shell said when it ended, by status file name. */
  readonly exits: Map<string, ExitRecord>;
  /** Status files a launcher could not write, by name, with the problem. */
  readonly statusErrors: Map<string, string>;
}

/** A spawn log's lines: its jobs, its launchers, the pids of launchers that settled, and what jobs' shells said. Lines that are none of these (a torn last line) are left out. */
export function parseSpawnLog(text: string): SpawnLog {
  const jobs: SpawnRecord[] = [];
  const launchers: JobIdentity[] = [];
  const settled = new Set<number>();
  const exits = new Map<string, ExitRecord>();
  const statusErrors = new Map<string, string>();
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
    else if (typeof r["exited"] === "string" && (Number.isInteger(r["code"]) || r["not_run"] === true)) exits.set(r["exited"], r as unknown as ExitRecord);
    else if (typeof r["status_error"] === "string" && typeof r["problem"] === "string") statusErrors.set(r["status_error"], r["problem"]);
    else if (Number.isInteger(r["launcher"]) && identity(r)) {
      launchers.push({ pid: r["launcher"] as number, proc_start: r["proc_start"] as number | null, boot_id: r["boot_id"] as string | null });
    } else if (typeof r["status"] === "string" && Number.isInteger(r["pid"]) && typeof r["started"] === "string" && identity(r)) {
      jobs.push(r as unknown as SpawnRecord);
    }
  }
  return { jobs, launchers, settled, exits, statusErrors };
}

/** The last `max` bytes of a file, as text ("" when it cannot be read). */
export function readTail(path: string, max = TAIL_BYTES): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - max);
    const buf = Buffer.alloc(size - start);
    const got = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, got).toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** When a file was last written (epoch ms), or undefined when it cannot be read. */
export function fileMtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Below this many bytes available (to a user without the root reserve, as
 * `df` shows "Avail"), a log's file system counts as full. A job's write never
 * tells anyone but the job that it failed (the job writes to its log itself),
 * so a full file system is the sign that some of its output may be lost:
 * after a failed write, what is left is less than that write needed.
 */
export const FULL_BELOW_BYTES = 64 * 1024;

/** Whether the file system holding `dir` has less than FULL_BELOW_BYTES available; false when that cannot be known. */
export function logsFull(dir: string): boolean {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize) < FULL_BELOW_BYTES;
  } catch {
    return false;
  }
}

/**
 * A result from the job's own shell: its exit status (128 + N read as signal
 * N), the tails read from its log files, and a duration up to `endedMs` (when
 * the watcher saw it end) or else the last write to its logs. Its
 * `log_error` is `disk-full` when the logs' file system is full as it is read.
 */
export function shellResult(code: number, job: { readonly statusPath: string; readonly startedMs: number }, endedMs?: number): JobResult {
  const base = job.statusPath.replace(/\.status$/, "");
  const logs = [`${base}.stdout.log`, `${base}.stderr.log`];
  const lastWrite = Math.max(...logs.map((p) => fileMtimeMs(p) ?? 0));
  const ended = endedMs ?? (lastWrite || Date.now());
  // No launcher watched its file system: what it is now (when wf saw the job end, or at a resume) is all there is.
  const full = logsFull(dirname(logs[0]!));
  return {
    ...shellStatus(code), timed_out: false, duration_ms: Math.max(0, Math.round(ended - job.startedMs)),
    log_truncated: false, stdout_tail: readTail(logs[0]!), stderr_tail: readTail(logs[1]!),
    ...(full ? { log_error: { path: logs[0]!, problem: "disk-full" } } : {}),
  };
}

