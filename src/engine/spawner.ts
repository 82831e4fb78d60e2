/**
 * Runs one attempt of one task as a detached job (platform/launcher.ts):
 * `/bin/sh -c <cmd>` in its own process group, writing its own log files and a
 * status file that outlive `wf`. The job's group is ended on timeout (by the
 * launcher, even when `wf` is gone) or abort: SIGTERM, then SIGKILL after a
 * grace period. A resume re-attaches to a job that outlived its `wf` by
 * watching its status file (reattach()).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname } from "node:path";
import type { ExitRecord, JobIdentity, JobResult, SpawnRecord, StatusOwner } from "../platform/job.ts";
import { readSpawnLog, readStatusFile, shellResult, statusBelongsTo } from "../platform/job.ts";
import { LauncherClient } from "../platform/launcher-client.ts";
import { endGroup, KILL_GRACE_MS, killGroup, localProcesses } from "../platform/process.ts";
import { isSameJob, writerAlive } from "../runs/jobs.ts";
import { judgeJob, trusted } from "../runs/verdict.ts";
import { unreachable } from "../util/unreachable.ts";
import { type FsProblem, problemFromName } from "../util/failure.ts";
import { abortableSleep, type LongTimer, setLongTimeout } from "../util/timer.ts";

export interface AttemptSpec {
  readonly cmd: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Where the job's status file goes (beside its logs). */
  readonly statusPath: string;
  /** Whose attempt it is: its status file names them. */
  readonly owner: StatusOwner;
  /** Each log is cut at this many bytes, with a note at the cut. */
  readonly logCapBytes: number;
  /** Called with each complete output line, for `--print-output`. */
  readonly onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Called once the process exists. */
  readonly onSpawn?: (identity: JobIdentity) => void;
  /** Run the attempt as a Slurm job instead (slurm-spawner.ts), with these `sbatch` arguments and job name. */
  readonly slurm?: { readonly args: readonly string[]; readonly jobName: string };
  /** Called once Slurm has accepted the job, with its id. */
  readonly onJob?: (jobId: string) => Promise<void> | void;
}

export interface AttemptResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** The last non-empty line of stdout, trimmed (what `register` captures). */
  readonly lastStdoutLine: string;
  /** The last lines of stderr, for error messages and forensic tasks. */
  readonly stderrTail: string;
  readonly logTruncated: boolean;
  /** Set when a log could not be written, so its output is lost. */
  readonly logError?: { readonly path: string; readonly problem: FsProblem };
  /** Set when the process could not be started at all. */
  readonly spawnError?: string;
  /**
   * A Slurm job that ended without writing its status file: the state Slurm reported
   * (`CANCELLED`, `TIMEOUT`, `NODE_FAIL`, ..., or `unknown` once Slurm forgot it) and who
   * ended it (this wf's scancel, or the scheduler and everyone else).
   */
  readonly slurm?: { readonly state: string; readonly by: "wf" | "scheduler" };
  /**
   * The attempt's outcome is not known (`neverRan` false: the command may have
   * run; its job ended and nothing recorded how), or its command certainly
   * never ran (`neverRan` true); `why` says what is known.
   */
  readonly lost?: { readonly neverRan: boolean; readonly why: string };
}

/** A job started by an earlier `wf` that a resume waits for. */
export interface Reattach {
  /** A local job's identity (pid 0 for a Slurm job). */
  readonly identity: JobIdentity;
  /** A Slurm job's id: the job is watched through Slurm instead. */
  readonly jobId?: string;
  readonly statusPath: string;
  /** When its timeout ends it (epoch ms), if it has one. */
  readonly deadline?: number;
  /** When it started (epoch ms), for the duration of a result this wf has to make up. */
  readonly startedMs: number;
  /** Whose attempt it is: a status file naming another is not its. */
  readonly owner?: StatusOwner;
}

/** Runs attempts. The engine depends on this interface so tests can pass a fake. */
export interface Spawner {
  run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult>;
  /**
   * Waits for a job an earlier `wf` started, and returns its result from its
   * status file; undefined when the job ended without one (its launcher died
   * too), so the result is lost.
   */
  reattach?(job: Reattach, abort: AbortSignal): Promise<AttemptResult | undefined>;
  /** The attempt whose status file is `statusPath` has its result in the journal. */
  journaled?(statusPath: string): void;
}

/** `--print-output` shows at most this many characters of one line. */
export const LINE_CAP = 64 * 1024;
const STDERR_TAIL_LINES = 10;
/** How often the logs of jobs whose output is printed are read, and a re-attached job's status file checked. */
const POLL_MS = 100;
/** A job gone without a final status gets this long for its launcher to write one. */
const STATUS_GRACE_MS = 2000;

/**
 * Splits text into lines for onLine. Work is linear in the output: text
 * without a newline is only appended, and a line longer than LINE_CAP is shown
 * cut, with a note (the log file keeps it whole, up to the log cap).
 */
export class LineSplitter {
  private partial = "";
  /** The line being collected was longer than LINE_CAP: the rest of it is dropped. */
  private partialCut = false;

  constructor(private readonly onLine: (line: string) => void) {}

  write(text: string): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.append(text.slice(start, nl));
      this.onLine(this.take());
      start = nl + 1;
    }
    this.append(text.slice(start));
  }

  /** Hands over a last line without a newline. */
  end(): void {
    if (this.partial !== "" || this.partialCut) this.onLine(this.take());
  }

  private append(piece: string): void {
    if (this.partialCut) return;
    const room = LINE_CAP - this.partial.length;
    if (piece.length <= room) this.partial += piece;
    else {
      this.partial += piece.slice(0, room);
      this.partialCut = true;
    }
  }

  private take(): string {
    const line = this.partialCut ? `${this.partial} [wf: line cut at ${LINE_CAP} characters]` : this.partial;
    this.partial = "";
    this.partialCut = false;
    return line;
  }
}

/** Follows a log file a job writes, for `--print-output`: reads what is new on each poll(), and the rest at end(). */
export class LogFollower {
  private offset = 0;
  private fd: number | undefined;
  private readonly decoder = new TextDecoder("utf-8");
  private readonly lines: LineSplitter;
  private readonly buf = Buffer.alloc(64 * 1024);

  constructor(
    private readonly path: string,
    onLine: (line: string) => void,
  ) {
    this.lines = new LineSplitter(onLine);
  }

  poll(): void {
    try {
      this.fd ??= openSync(this.path, "r");
      for (;;) {
        const got = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
        if (got === 0) break;
        this.offset += got;
        this.lines.write(this.decoder.decode(this.buf.subarray(0, got), { stream: true }));
      }
    } catch {
      // Not there yet, or gone: the log file is the record, this is only a view of it.
    }
  }

  end(): void {
    this.poll();
    this.lines.write(this.decoder.decode());
    this.lines.end();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function lastNonEmptyLine(text: string): string {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line !== "") return line;
  }
  return "";
}

function lastLines(text: string, n: number): string {
  return text.replace(/\s+$/, "").split("\n").slice(-n).join("\n");
}

/** A job's result as the engine reads it. */
export function attemptResult(r: JobResult): AttemptResult {
  return {
    exitCode: r.exit_code,
    signal: r.signal,
    timedOut: r.timed_out,
    durationMs: r.duration_ms,
    lastStdoutLine: lastNonEmptyLine(r.stdout_tail),
    stderrTail: lastLines(r.stderr_tail, STDERR_TAIL_LINES),
    logTruncated: r.log_truncated,
    ...(r.log_error === undefined ? {} : { logError: { path: r.log_error.path, problem: problemFromName(r.log_error.problem) } }),
    ...(r.spawn_error === undefined ? {} : { spawnError: r.spawn_error }),
  };
}

/**
 * Launchers per execution. Starting a process blocks the launcher's one
 * thread for the fork and exec, so two launchers start jobs on two cores at
 * once; each is started on its first job, and one that is gone (died,
 * stopped) is replaced for the jobs that start after.
 */
const LAUNCHERS = Math.max(1, Math.min(2, availableParallelism()));
/** A task timeout the launcher has not enforced this long after its grace period: wf ends the job itself, and gives up on the launcher. */
const BACKSTOP_MS = 2000;

/**
 * An attempt's life, as this spawner drives it (the verdicts are judgeJob's, runs/verdict.ts):
 *
 *   start on a launcher ──spawned──> running ──exited──> result (the launcher's)
 *      ^        │                       │
 *      │        │ launcher lost,        │ launcher lost (died, stopped, silent, or missed the timeout)
 *      │        │ no start recorded     v
 *      └────────┘            watched by pid + start time + boot id, timeouts and aborts kept by wf
 *      └──── never ran ──────────┤ gone: status file / shell's exit line -> result
 *                                └─ nothing written -> unknown outcome (AttemptResult.lost)
 */
export class JobSpawner implements Spawner {
  private readonly launchers: LauncherClient[];
  private nextLauncher = 0;
  /** Process groups of attempts still running. */
  private readonly live = new Set<number>();
  private readonly followers = new Set<LogFollower>();
  /** Launcher job ids of attempts that ended and whose result is not yet journaled, by status file. */
  private readonly ended = new Map<string, { launcher: LauncherClient; id: number }>();
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private readonly runDir: string;

  /**
   * `spawnLog`: the run's spawn log, where the launcher records each job it
   * starts. `baseEnv`: the environment most attempts start from (the engine's
   * base environment), sent to the launcher once.
   */
  constructor(
    private readonly spawnLog: string,
    private readonly baseEnv: Readonly<Record<string, string>>,
  ) {
    this.runDir = dirname(spawnLog);
    this.launchers = Array.from({ length: LAUNCHERS }, () => new LauncherClient(spawnLog, baseEnv));
  }

  /** Ends every running attempt's group at once (a second Ctrl-C, or a fatal journal error). */
  killAll(): void {
    for (const pid of this.live) killGroup(pid, "SIGKILL");
  }

  /** No more attempts: the launcher exits once the last job has ended. */
  close(): void {
    for (const launcher of this.launchers) launcher.close();
  }

  /** The next launcher in turn; one that is gone is replaced by a new one. */
  private launcher(): LauncherClient {
    const i = this.nextLauncher++ % this.launchers.length;
    if (this.launchers[i]!.gone) this.launchers[i] = new LauncherClient(this.spawnLog, this.baseEnv);
    return this.launchers[i]!;
  }

  run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult> {
    const followers = spec.onLine === undefined ? [] : [
      new LogFollower(spec.stdoutPath, (l) => spec.onLine!("stdout", l)),
      new LogFollower(spec.stderrPath, (l) => spec.onLine!("stderr", l)),
    ];
    for (const f of followers) this.follow(f);
    const requested = Date.now();
    return new Promise((resolve) => {
      let done = false;
      let reported: JobIdentity | undefined;
      const finish = (result: AttemptResult) => {
        if (done) return;
        done = true;
        if (reported !== undefined) this.live.delete(reported.pid);
        for (const f of followers) {
          this.followers.delete(f);
          f.end();
        }
        resolve(result);
      };
      const startOn = (launcher: LauncherClient) => {
        let id = 0;
        let backstop: LongTimer | undefined;
        const onAbort = () => launcher.stop(id);
        const detach = () => {
          abort.removeEventListener("abort", onAbort);
          backstop?.clear();
        };
        id = launcher.start(
          {
            cmd: spec.cmd, cwd: spec.cwd, env: spec.env, stdout: spec.stdoutPath, stderr: spec.stderrPath,
            status: spec.statusPath, cap: spec.logCapBytes, owner: spec.owner,
            ...(spec.timeoutMs === undefined ? {} : { timeout_ms: spec.timeoutMs }),
          },
          {
            spawned: (identity) => {
              reported = identity;
              this.live.add(identity.pid);
              spec.onSpawn?.(identity);
              if (spec.timeoutMs !== undefined) {
                const why = `the job launcher did not end task "${spec.owner.node}" at its timeout`;
                backstop = setLongTimeout(() => launcher.giveUp(why), spec.timeoutMs + KILL_GRACE_MS + BACKSTOP_MS);
              }
            },
            exited: (result) => {
              detach();
              this.ended.set(spec.statusPath, { launcher, id });
              finish(attemptResult(result));
            },
            lost: (identity) => {
              detach();
              const record = identity === undefined ? this.spawnRecord(spec.statusPath) : undefined;
              const known = identity ?? (record === undefined ? undefined : { pid: record.pid, proc_start: record.proc_start, boot_id: record.boot_id });
              // Never started: its shell, if any, heard no "go" and will not run the command.
              if (known === undefined) return startOn(this.launcher());
              if (reported === undefined) {
                reported = known;
                this.live.add(known.pid);
                spec.onSpawn?.(known);
              }
              const startedMs = record === undefined ? requested : Date.parse(record.started);
              const deadline = spec.timeoutMs === undefined ? undefined : startedMs + spec.timeoutMs;
              void this.watch({ identity: known, statusPath: spec.statusPath, startedMs, owner: spec.owner, ...(deadline === undefined ? {} : { deadline }) }, abort, 0).then((outcome) => {
                if (outcome.kind === "never-ran") startOn(this.launcher());
                else finish(outcome.result);
              });
            },
          },
        );
        // Requests are read in order: a stop sent before the job was spawned reaches it once it is.
        if (done) return;
        if (abort.aborted) onAbort();
        else abort.addEventListener("abort", onAbort, { once: true });
      };
      startOn(this.launcher());
    });
  }

  /** The run's spawn log's record of the job whose status file is `statusPath`, if its launcher wrote one. */
  private spawnRecord(statusPath: string): SpawnRecord | undefined {
    const name = basename(statusPath);
    return readSpawnLog(this.runDir)?.jobs.findLast((r) => r.status === name);
  }

  journaled(statusPath: string): void {
    const job = this.ended.get(statusPath);
    if (job === undefined) return;
    this.ended.delete(statusPath);
    job.launcher.ack(job.id);
  }

  async reattach(job: Reattach, abort: AbortSignal): Promise<AttemptResult | undefined> {
    const outcome = await this.watch(job, abort, STATUS_GRACE_MS);
    return outcome.kind === "never-ran" ? lostResult(job, outcome.why, true) : outcome.result;
  }

  /**
   * Watches a job no launcher of this wf reports on (an earlier execution's,
   * or one whose launcher is gone) until it ends, then judges what it left
   * (judgeJob). Its deadline and `abort` are kept here: the group is ended,
   * SIGTERM then SIGKILL. `graceMs`: how long a job gone without a word gets
   * for its status file to appear (a launcher of a dead wf writing it).
   */
  private async watch(job: Reattach, abort: AbortSignal, graceMs: number): Promise<{ kind: "result"; result: AttemptResult } | { kind: "never-ran"; why: string }> {
    const { pid } = job.identity;
    const name = basename(job.statusPath);
    let ending: "abort" | "timeout" | undefined;
    let goneSince: number | undefined;
    let seenAlive = false;
    this.live.add(pid);
    try {
      for (;;) {
        const now = Date.now();
        const file = readStatusFile(job.statusPath);
        const status = file !== undefined && (job.owner === undefined || statusBelongsTo(file, job.owner)) ? file : undefined;
        const alive = status === undefined && trusted(job.identity) && isSameJob(job.identity, localProcesses);
        let exit: ExitRecord | undefined;
        let writerBusy = false;
        if (status === undefined && !alive) {
          const log = readSpawnLog(this.runDir);
          exit = log?.exits.get(name);
          writerBusy = log !== undefined && writerAlive(log, name, localProcesses);
        }
        const verdict = judgeJob({ ...(status === undefined ? {} : { status }), ...(exit === undefined ? {} : { exit }), identity: job.identity, alive, writerBusy });
        switch (verdict.kind) {
          case "result": {
            // A job this watch saw alive ended within one poll of now; else its logs' last write is the best guess.
            const result = verdict.source === "launcher" ? attemptResult(verdict.status) : attemptResult(shellResult(verdict.code, job, seenAlive ? now : undefined));
            // Ended by this wf: the job only saw a signal.
            return { kind: "result", result: ending === "timeout" ? { ...result, timedOut: true } : result };
          }
          case "never-ran":
            return { kind: "never-ran", why: verdict.why };
          case "running":
            goneSince = undefined;
            seenAlive = true;
            if (ending === undefined && (abort.aborted || (job.deadline !== undefined && now > job.deadline))) {
              // No launcher keeps its timeout or hears the stop: this wf does.
              ending = abort.aborted ? "abort" : "timeout";
              void endGroup(pid);
            }
            break;
          case "pending":
            goneSince = undefined;
            break;
          case "unknown":
            goneSince ??= now;
            if (now - goneSince < graceMs) break;
            if (ending !== undefined) {
              // This wf ended it (SIGTERM, then SIGKILL), and its shell went with it before writing a word.
              const { lost: _, ...ended } = lostResult(job, "", false);
              return { kind: "result", result: { ...ended, timedOut: ending === "timeout" } };
            }
            return { kind: "result", result: lostResult(job, verdict.why, false) };
          default:
            return unreachable(verdict);
        }
        await abortableSleep(POLL_MS, neverAborted);
      }
    } finally {
      this.live.delete(pid);
    }
  }

  private follow(f: LogFollower): void {
    this.followers.add(f);
    this.pollTimer ??= setInterval(() => {
      for (const each of this.followers) each.poll();
      if (this.followers.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    }, POLL_MS);
  }
}

/** A result whose outcome is not known: failed, with why. */
function lostResult(job: Reattach, why: string, neverRan: boolean): AttemptResult {
  return {
    exitCode: null, signal: null, timedOut: false, durationMs: Math.max(0, Date.now() - job.startedMs),
    lastStdoutLine: "", stderrTail: "", logTruncated: false, lost: { neverRan, why },
  };
}

const neverAborted = new AbortController().signal;
