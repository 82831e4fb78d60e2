/**
 * What the engine asks of whatever runs its attempts (attempts.ts's
 * AttemptRunner; a fake in the engine's unit tests): run an attempt, wait
 * for a job an earlier execution started, hear that a result is journaled.
 * Also the pieces every executor shares: the result as the engine reads it,
 * and following a log for `--print-output`.
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { JobIdentity, JobResult, StatusOwner } from "../platform/job.ts";
import { type FsProblem, problemFromName } from "../util/failure.ts";

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
  /** Run the attempt as a Slurm job instead (executors/slurm.ts), with these `sbatch` arguments and job name. */
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
  /**
   * The command succeeded, but the variable its task registers (`variable`)
   * cannot be read: its stdout log was lost (`logError`), so the last line
   * kept is not known to be the last line printed. The attempt fails.
   */
  readonly registerLost?: { readonly variable: string; readonly problem: FsProblem };
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
   * Waits for a job an earlier `wf` started, and returns its result: from its
   * status file or its shell's exit line, or `lost` when nothing recorded how
   * it ended.
   */
  reattach?(job: Reattach, abort: AbortSignal): Promise<AttemptResult>;
  /** The attempt whose status file is `statusPath` has its result in the journal. */
  journaled?(statusPath: string): void;
}

/** `--print-output` shows at most this many characters of one line. */
export const LINE_CAP = 64 * 1024;
const STDERR_TAIL_LINES = 10;

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

/** The last `n` lines of `text`, without trailing whitespace. */
export function lastLines(text: string, n: number): string {
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
