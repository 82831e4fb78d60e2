/**
 * The launcher: a small, long-lived process that starts every job of one
 * execution, so the large `wf` process is never forked once per task, and
 * that outlives `wf`, so a job's result is written down even when `wf` was
 * killed. `wf` starts it detached (its own session and process group) and
 * talks to it in JSON lines: requests on its stdin, reports on its stdout
 * (job.ts).
 *
 * Each job is a small shell (JOB_SHELL) that runs `/bin/sh -c <cmd>`, in its
 * own process group, its stdout and stderr opened by the launcher straight
 * onto the log files (so output never flows through a pipe that can break).
 * Its identity is appended to the run's spawn log before the command may
 * start; its result goes to `wf`, and to a status file beside its logs unless
 * `wf` acknowledges that the journal has it. The job's shell also appends the
 * command's exit status to the spawn log, so the result outlives the launcher.
 * Only the job sees its writes to a log fail: a file system under the logs
 * found full at a cap check or at the job's end makes its `log_error` disk-full.
 *
 *   stdin open ──start──> job running ──exits──> report ──ack──> done (no status file)
 *       │                    │                      └──wf gone before ack──> status file
 *       │                    │ timeout / stop: SIGTERM to the group, SIGKILL after the grace period
 *       └─EOF (wf ended or died)──> start no more jobs; a job that ends writes its status file;
 *                                   exit when the last one has ended
 */
import { spawn } from "node:child_process";
import { closeSync, constants, existsSync, fstatSync, ftruncate, ftruncateSync, open, openSync, readSync, writeSync } from "node:fs";
import { rename, unlink, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { fsProblem, problemName } from "../util/failure.ts";
import { type LongTimer, setLongTimeout } from "../util/timer.ts";
import { bootId, KILL_GRACE_MS, killGroup, procStart } from "./process.ts";
import { formatStatus, type JobIdentity, type JobResult, type JobSpec, type JobStatus, type LauncherReport, type LauncherRequest, logsFull, type SpawnLogLine, TAIL_BYTES, type WireEnv } from "./job.ts";

/** The argument that makes `wf` run as the launcher (it is never a command name). */
export const LAUNCHER_ARG = "__wf-launcher";

/**
 * The job's own shell, the parent of the command: `$1` is the command, `$2`
 * its status file's name; fd 3 is the run's spawn log, fd 4 a pipe from the
 * launcher, fd 5 the command's stderr log. It waits for the launcher's "go" on fd 4, written once the job's
 * identity is in the spawn log: a launcher that dies before that closes the
 * pipe, and the command never starts. When the command ends, it appends the
 * exit status to the spawn log (one write, O_APPEND) and ends as the command
 * did: 128 + N for an ending signal N is raised again, so the launcher sees
 * the signal. Its traps keep it alive until the command has ended when its
 * group is sent SIGTERM, SIGINT or SIGHUP (a trap is reset on exec: the
 * command gets the signal as it would without this shell). Its own stderr is
 * /dev/null and the command's (the log) is fd 5, given to the command only
 * inside a subshell: the note a shell prints when its foreground command is
 * killed ("Terminated") stays out of the log.
 */
export const JOB_SHELL = [
  "trap : TERM INT HUP",
  `if ! IFS= read -r wf_go <&4; then printf '{"exited":"%s","not_run":true}\n' "$2" >&3 2>/dev/null; exit 125; fi`,
  "exec 4<&-",
  '( exec /bin/sh -c "$1" 2>&5 3>&- 5>&- )',
  "wf_s=$?",
  `printf '{"exited":"%s","code":%d}\n' "$2" "$wf_s" >&3 2>/dev/null`,
  "exec 3>&- 5>&-",
  "trap - TERM INT HUP",
  'case $wf_s in 129|13[0-9]|14[0-4]|15[2-5]|15[7-9]) ulimit -c 0; kill -$((wf_s - 128)) $$;; esac',
  'exit "$wf_s"',
].join("\n");

let nullFd: number | undefined;
/** A descriptor of /dev/null, opened once. */
function devNull(): number {
  nullFd ??= openSync("/dev/null", "w");
  return nullFd;
}

/** Created or emptied, appended to (so a cut at the cap leaves no hole), never through a symbolic link. */
const LOG_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
/** How often the logs of running jobs are checked against the cap. */
const CAP_CHECK_MS = 200;

/** One log file of a running job. */
class Log {
  /** Bytes of output past the cap, dropped from the file. */
  private dropped = 0;
  truncated = false;
  /** The last bytes written, whether or not the file keeps them. */
  private tail = Buffer.alloc(0);
  readonly note: Buffer;

  constructor(
    readonly path: string,
    readonly fd: number | undefined,
    private readonly cap: number,
  ) {
    this.note = Buffer.from(`\n[wf: output cut at ${cap} bytes]\n`);
  }

  /** Cuts the file back to the cap (and the note) when it grew past it, keeping the tail of what was written. */
  check(): void {
    if (this.fd === undefined) return;
    let size: number;
    try {
      size = fstatSync(this.fd).size;
    } catch {
      return;
    }
    const keep = this.truncated ? this.cap + this.note.length : this.cap;
    if (size <= keep) return;
    this.keepTail(this.truncated ? keep : 0, size);
    try {
      ftruncateSync(this.fd, this.cap);
      writeSync(this.fd, this.note); // O_APPEND: at the end, which is the cap
    } catch {
      // The file keeps what it has; the tail is still right.
    }
    this.dropped += size - keep;
    this.truncated = true;
  }

  /** Adds bytes [from, to) of the file to the tail. */
  private keepTail(from: number, to: number): void {
    const start = Math.max(from, to - TAIL_BYTES);
    const buf = Buffer.alloc(to - start);
    let got = 0;
    try {
      got = readSync(this.fd!, buf, 0, buf.length, start);
    } catch {
      return;
    }
    const fresh = buf.subarray(0, got);
    this.tail = start > from ? fresh : Buffer.concat([this.tail, fresh]).subarray(-TAIL_BYTES);
  }

  /** The last bytes written, once the job has ended. */
  finish(): string {
    this.check();
    if (this.fd !== undefined) {
      try {
        const size = fstatSync(this.fd).size;
        if (!this.truncated) this.keepTail(0, size);
        else if (size > this.cap + this.note.length) this.keepTail(this.cap + this.note.length, size);
      } catch {
        // No size: the tail collected so far.
      }
      try {
        closeSync(this.fd);
      } catch {
        // Closed is closed.
      }
    }
    return this.tail.toString("utf8");
  }
}

const openFd = promisify(open);
const truncateFd = promisify(ftruncate);

/**
 * Opens a log for a job; undefined (and the problem) when it cannot be. In the
 * thread pool: creating files costs the file system's time, which the
 * launcher spends starting other jobs meanwhile.
 */
async function openLog(path: string): Promise<{ fd?: number; problem?: string }> {
  try {
    const fd = await openFd(path, LOG_FLAGS, 0o600);
    await truncateFd(fd, 0);
    return { fd };
  } catch (e) {
    return { problem: problemName(fsProblem(e) ?? "io-error") };
  }
}

/** Writes a status file whole: a reader sees none or all of it, never a part. A failed write leaves no temporary file behind. */
async function writeStatus(path: string, status: JobStatus): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, formatStatus(status), { mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** A status file that cannot be written (a full disk) is tried again this often, for as long as STATUS_RETRY_MS. */
const STATUS_RETRY_EVERY_MS = 500;
const STATUS_RETRY_MS = 10 * 60_000;

/** One running job. */
interface Running {
  readonly pid: number;
  readonly out: Log;
  readonly err: Log;
  readonly timers: LongTimer[];
  timedOut: boolean;
  /** Its logs' file system was seen full while it ran: some of its output may be lost. */
  full: boolean;
}

/**
 * Runs the launcher on this process's stdin and stdout until stdin ends and
 * the last job has ended. `parent` is the pid of the `wf` that started it: a
 * start request read after that `wf` is gone is not carried out.
 */
export function runLauncher(parent: number): void {
  const jobs = new Map<number, Running>();
  const boot = bootId();
  let baseEnv: Readonly<Record<string, string>> = {};
  /** The run's spawn log, appended to; undefined when it cannot be opened (a resume then runs such a job again). */
  let spawnLog: number | undefined;
  const envOf = (env: WireEnv): Record<string, string> => ("whole" in env ? { ...env.whole } : { ...baseEnv, ...env.add });
  const recordSpawn = (record: SpawnLogLine) => {
    if (spawnLog === undefined) return;
    try {
      writeSync(spawnLog, `${JSON.stringify(record)}\n`); // one write, appended
    } catch {
      // Nowhere to write it: wf journals the identity from the report.
    }
  };
  /** Written once wf is gone and every result it did not journal is in a status file. */
  let settled = false;
  let inputEnded = false;
  let outputBroken = false;
  const report = (r: LauncherReport) => {
    if (outputBroken) return;
    process.stdout.write(`${JSON.stringify(r)}\n`);
  };
  // wf died: its end of the pipe is gone. The jobs go on; their status files tell the rest.
  process.stdout.on("error", () => {
    outputBroken = true;
  });
  process.stderr.on("error", () => {});
  /** Status files being written. */
  let finishing = 0;
  const maybeExit = () => {
    if (inputEnded && !settled && opening.size === 0 && finishing === 0) {
      // A resume waits for this line before it decides that a job without a status file is gone.
      settled = true;
      recordSpawn({ settled: process.pid });
    }
    if (inputEnded && jobs.size === 0 && opening.size === 0 && finishing === 0) {
      clearInterval(capTimer);
      process.stdin.destroy();
    }
  };
  const capTimer = setInterval(() => {
    // Before the cap checks, which may free space. One look per folder and tick, however many jobs write there.
    const full = new Map<string, boolean>();
    for (const job of jobs.values()) {
      if (job.full) continue;
      const dir = dirname(job.out.path);
      if (!full.has(dir)) full.set(dir, logsFull(dir));
      job.full = full.get(dir)!;
    }
    for (const job of jobs.values()) {
      job.out.check();
      job.err.check();
    }
  }, CAP_CHECK_MS);

  const stop = (job: Running) => {
    killGroup(job.pid, "SIGTERM");
    job.timers.push(setLongTimeout(() => killGroup(job.pid, "SIGKILL"), KILL_GRACE_MS));
  };

  /** Jobs whose logs are being opened, and whether a stop came for them meanwhile. */
  const opening = new Map<number, { stopped: boolean }>();

  const start = async (id: number, spec: JobSpec) => {
    const pending = { stopped: false };
    opening.set(id, pending);
    const [o, e] = await Promise.all([openLog(spec.stdout), openLog(spec.stderr)]);
    opening.delete(id);
    const began = Date.now();
    const startedAt = new Date(began).toISOString();
    const fail = (why: string, out: Log, err: Log) => {
      const result: JobResult = {
        exit_code: null, signal: null, timed_out: false, duration_ms: Date.now() - began, log_truncated: false,
        spawn_error: why, stdout_tail: out.finish(), stderr_tail: err.finish(),
      };
      finishJob(id, spec, startedAt, result, undefined);
    };
    const out = new Log(spec.stdout, o.fd, spec.cap);
    const err = new Log(spec.stderr, e.fd, spec.cap);
    // One log_error: stdout's first, as `register` reads it; a full file system holds both logs.
    const logError = (full: boolean) =>
      o.problem !== undefined ? { path: spec.stdout, problem: o.problem }
      : full ? { path: spec.stdout, problem: "disk-full" }
      : e.problem !== undefined ? { path: spec.stderr, problem: e.problem }
      : undefined;
    // wf died after asking: a resume decides about this attempt now, so it must never start.
    if (process.ppid !== parent) {
      out.finish();
      err.finish();
      return maybeExit();
    }
    if (pending.stopped) return fail("stopped before it started", out, err);
    let child;
    try {
      child = spawn("/bin/sh", ["-c", JOB_SHELL, "wf-job", spec.cmd, basename(spec.status)], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true, // its own process group, so a timeout ends the whole tree
        // fd 5 must be open for the job's shell to hand it on: a log that could not be opened is /dev/null.
        stdio: ["ignore", o.fd ?? "ignore", "ignore", spawnLog ?? "ignore", "pipe", e.fd ?? devNull()],
      });
    } catch (x) {
      return fail((x as Error).message, out, err);
    }
    child.on("error", (x) => {
      if (child.pid !== undefined) return;
      // Node reports a missing cwd as the shell not being found: say what is really missing.
      fail(existsSync(spec.cwd) ? x.message : `working directory "${spec.cwd}" does not exist`, out, err);
    });
    const pid = child.pid;
    if (pid === undefined) return; // the error event follows
    const identity = { pid, proc_start: procStart(pid), boot_id: boot };
    const job: Running = { pid, out, err, timers: [], timedOut: false, full: false };
    jobs.set(id, job);
    const deadline = spec.timeout_ms === undefined ? undefined : began + spec.timeout_ms;
    // In the spawn log before the command may start, and before wf hears of it: a wf or launcher killed
    // from here on leaves the job's identity for whoever watches it next.
    recordSpawn({ status: basename(spec.status), started: startedAt, ...identity, by: process.pid, ...(deadline === undefined ? {} : { deadline }) });
    const go = child.stdio[4] as NodeJS.WritableStream | null;
    go?.on("error", () => {}); // the job's shell ended first: its exit says why
    go?.end("go\n");
    report({ ev: "spawned", id, identity });
    if (spec.timeout_ms !== undefined) {
      job.timers.push(
        setLongTimeout(() => {
          job.timedOut = true;
          stop(job);
        }, spec.timeout_ms),
      );
    }
    child.on("exit", (code, signal) => {
      for (const t of job.timers) t.clear();
      jobs.delete(id);
      // Looked at before finish(), whose cut at the cap may free space.
      const problem = logError(job.full || (o.fd !== undefined && logsFull(dirname(spec.stdout))));
      const result: JobResult = {
        exit_code: code, signal, timed_out: job.timedOut, duration_ms: Date.now() - began,
        log_truncated: false, stdout_tail: out.finish(), stderr_tail: err.finish(),
        ...(problem === undefined ? {} : { log_error: problem }),
      };
      finishJob(id, spec, startedAt, { ...result, log_truncated: out.truncated || err.truncated }, identity);
    });
  };

  /**
   * Writes a status file, trying again while it fails (a full disk, an I/O
   * error) for up to STATUS_RETRY_MS: the launcher stays alive and unsettled
   * meanwhile, so a resume waits for the file rather than calling the result
   * lost. The first failure is said in the spawn log and on stderr.
   */
  const writeStatusPersistently = async (path: string, status: JobStatus): Promise<void> => {
    for (let tried = 0; ; tried += STATUS_RETRY_EVERY_MS) {
      try {
        return await writeStatus(path, status);
      } catch (e) {
        const problem = problemName(fsProblem(e) ?? "io-error");
        if (tried === 0) {
          recordSpawn({ status_error: basename(path), problem });
          try {
            process.stderr.write(`wf launcher: cannot write status file "${path}" (${problem}): trying again every ${STATUS_RETRY_EVERY_MS} ms\n`);
          } catch {
            // wf is gone: the spawn log line is all there is.
          }
        }
        if (tried >= STATUS_RETRY_MS) return;
        await new Promise((r) => setTimeout(r, STATUS_RETRY_EVERY_MS));
      }
    }
  };

  /** Results reported to wf that it has not yet said are journaled: their status files are written if it dies first. */
  const unacked = new Map<number, () => void>();

  /**
   * A job ended: its result goes to wf, and into its status file unless wf
   * acknowledges that its journal has it (then the file would never be read).
   * Once wf is gone, the status file is written at once.
   */
  const finishJob = (id: number, spec: JobSpec, started: string, result: JobResult, identity: JobIdentity | undefined) => {
    const ended = new Date().toISOString();
    const status: JobStatus = { state: "exited", run: spec.owner.run, node: spec.owner.node, attempt: spec.owner.attempt, started, ended, ...(identity ?? {}), ...result };
    const write = () => {
      unacked.delete(id);
      finishing++;
      void writeStatusPersistently(spec.status, status).finally(() => {
        finishing--;
        maybeExit();
      });
    };
    if (inputEnded || outputBroken) return write();
    unacked.set(id, write);
    report({ ev: "exited", id, result });
  };

  let buffered = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let request: LauncherRequest;
      try {
        request = JSON.parse(line) as LauncherRequest;
      } catch {
        continue;
      }
      if (request.op === "init") {
        baseEnv = request.base_env;
        try {
          spawnLog = openSync(request.spawn_log, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
        } catch {
          spawnLog = undefined;
        }
        recordSpawn({ launcher: process.pid, proc_start: procStart(process.pid), boot_id: boot, started: new Date().toISOString() });
      } else if (request.op === "start") {
        if (process.ppid !== parent) continue; // checked again right before the job starts
        void start(request.id, { ...request.job, env: envOf(request.job.env) });
      } else if (request.op === "ping") {
        report({ ev: "pong" });
      } else if (request.op === "ack") {
        unacked.delete(request.id);
      } else if (request.op === "stop") {
        const job = jobs.get(request.id);
        if (job !== undefined) stop(job);
        const pending = opening.get(request.id);
        if (pending !== undefined) pending.stopped = true;
      }
    }
  });
  const ended = () => {
    if (inputEnded) return;
    inputEnded = true;
    // wf is gone, or done: what it did not journal goes to status files.
    for (const write of [...unacked.values()]) write();
    maybeExit();
  };
  process.stdin.on("end", ended);
  process.stdin.on("error", ended);
  process.stdin.on("close", ended);
}

/** The entry point, called by main.ts when `wf` is started as the launcher. */
export function launcherMain(args: readonly string[]): void {
  const parent = Number(args[0]);
  runLauncher(Number.isInteger(parent) ? parent : process.ppid);
}
