/**
 * Runs one attempt of one task: `/bin/sh -c <cmd>` in its own process group,
 * output streamed to log files as it comes, the whole group ended on timeout
 * or abort (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn } from "node:child_process";
import { constants, createWriteStream, existsSync, type WriteStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { KILL_GRACE_MS, killGroup } from "../platform/process.ts";
import { type LongTimer, setLongTimeout } from "../util/timer.ts";
import { type FsProblem, fsProblem } from "../util/failure.ts";

export interface AttemptSpec {
  readonly cmd: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Each log is cut at this many bytes, with a note at the cut. */
  readonly logCapBytes: number;
  /** Called with each complete output line, for `--print-output`. */
  readonly onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Called once the process exists. */
  readonly onSpawn?: (pid: number) => void;
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
  /** Set when a log could not be written (opened, or written to the end): some output is lost. */
  readonly logError?: { readonly path: string; readonly problem: FsProblem };
  /** Set when the process could not be started at all. */
  readonly spawnError?: string;
}

/** Runs attempts. The engine depends on this interface so tests can pass a fake. */
export interface Spawner {
  run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult>;
}

const TAIL_BYTES = 4096;
/** `--print-output` shows at most this many characters of one line. */
export const LINE_CAP = 64 * 1024;
/** Created or emptied, never through a symbolic link planted in its place. */
const LOG_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
const STDERR_TAIL_LINES = 10;

/** Keeps the last `max` characters of a stream and counts what went to the log. */
class LogSink {
  private written = 0;
  truncated = false;
  tail = "";
  /** The first error opening or writing the file; output after it is lost (the tail and lines still work). */
  problem: FsProblem | undefined;
  private partial = "";
  /** The line being collected was longer than LINE_CAP: the rest of it is dropped from the terminal. */
  private partialCut = false;
  private readonly file: WriteStream;
  /** Settles once the file is open, or could not be opened. */
  readonly opened: Promise<void>;
  /** Keeps a character split across two chunks whole. */
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    readonly path: string,
    private readonly cap: number,
    private readonly onLine?: (line: string) => void,
  ) {
    // Numeric flags reach open(2) as they are (the typings only name strings).
    this.file = createWriteStream(path, { flags: LOG_FLAGS as unknown as string, mode: 0o600 });
    this.opened = new Promise((resolve) => {
      this.file.once("open", () => resolve());
      this.file.on("error", (e) => {
        this.problem ??= fsProblem(e) ?? "io-error";
        resolve();
      });
    });
  }

  write(chunk: Buffer): void {
    const room = this.cap - this.written;
    if (room > 0 && this.problem === undefined) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.file.write(part);
      this.written += part.length;
    }
    if (chunk.length > room && !this.truncated) {
      this.truncated = true;
      if (this.problem === undefined) this.file.write(`\n[wf: output cut at ${this.cap} bytes]\n`);
    }
    const text = this.decoder.write(chunk);
    this.tail = (this.tail + text).slice(-TAIL_BYTES);
    if (this.onLine) this.splitLines(text);
  }

  /**
   * Hands complete lines to onLine. Work is linear in the output: a chunk
   * without a newline is only appended, and a line longer than LINE_CAP is
   * shown cut, with a note (the log file keeps it whole, up to the log cap).
   */
  private splitLines(text: string): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.appendPartial(text.slice(start, nl));
      this.onLine!(this.takePartial());
      start = nl + 1;
    }
    this.appendPartial(text.slice(start));
  }

  private appendPartial(piece: string): void {
    if (this.partialCut) return;
    const room = LINE_CAP - this.partial.length;
    if (piece.length <= room) this.partial += piece;
    else {
      this.partial += piece.slice(0, room);
      this.partialCut = true;
    }
  }

  private takePartial(): string {
    const line = this.partialCut ? `${this.partial} [wf: line cut at ${LINE_CAP} characters]` : this.partial;
    this.partial = "";
    this.partialCut = false;
    return line;
  }

  close(): Promise<void> {
    if (this.onLine && (this.partial !== "" || this.partialCut)) this.onLine(this.takePartial());
    // Resolves once the file is closed, whether or not it could be written (see `problem`).
    return new Promise((resolve) => {
      if (this.file.closed || this.file.destroyed) return resolve();
      this.file.once("close", resolve);
      this.file.end();
    });
  }
}

function logError(...sinks: LogSink[]): { logError?: { path: string; problem: FsProblem } } {
  const failed = sinks.find((s) => s.problem !== undefined);
  return failed === undefined ? {} : { logError: { path: failed.path, problem: failed.problem! } };
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

export class ProcessSpawner implements Spawner {
  /** Process groups of attempts still running. */
  private readonly live = new Set<number>();

  constructor(private readonly graceMs = KILL_GRACE_MS) {}

  /** Ends every running attempt's group at once (a second Ctrl-C, or a fatal journal error). */
  killAll(): void {
    for (const pid of this.live) killGroup(pid, "SIGKILL");
  }

  async run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    const out = new LogSink(spec.stdoutPath, spec.logCapBytes, spec.onLine && ((l) => spec.onLine!("stdout", l)));
    const errSink = new LogSink(spec.stderrPath, spec.logCapBytes, spec.onLine && ((l) => spec.onLine!("stderr", l)));
    // The logs exist (or are known lost) before the process can write anything.
    await Promise.all([out.opened, errSink.opened]);
    return new Promise((resolve) => {
      let timedOut = false;
      let settled = false;
      const timers: LongTimer[] = [];
      const child = spawn("/bin/sh", ["-c", spec.cmd], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true, // its own process group, so a timeout ends the whole tree
        stdio: ["ignore", "pipe", "pipe"],
      });
      const stop = () => {
        if (child.pid === undefined) return;
        const pid = child.pid;
        killGroup(pid, "SIGTERM");
        timers.push(setLongTimeout(() => killGroup(pid, "SIGKILL"), this.graceMs));
      };
      const onAbort = () => stop();
      abort.addEventListener("abort", onAbort, { once: true });
      if (spec.timeoutMs !== undefined) {
        // A long timer: setTimeout alone fires at once from 2^31 ms ("600h") on.
        timers.push(
          setLongTimeout(() => {
            timedOut = true;
            stop();
          }, spec.timeoutMs),
        );
      }
      child.stdout!.on("data", (c: Buffer) => out.write(c));
      child.stderr!.on("data", (c: Buffer) => errSink.write(c));
      const finish = async (exitCode: number | null, signal: string | null, spawnError?: string) => {
        if (settled) return;
        settled = true;
        for (const t of timers) t.clear();
        abort.removeEventListener("abort", onAbort);
        if (child.pid !== undefined) this.live.delete(child.pid);
        await Promise.all([out.close(), errSink.close()]);
        resolve({
          exitCode,
          signal,
          timedOut,
          durationMs: Math.round(performance.now() - started),
          lastStdoutLine: lastNonEmptyLine(out.tail),
          stderrTail: lastLines(errSink.tail, STDERR_TAIL_LINES),
          logTruncated: out.truncated || errSink.truncated,
          ...logError(out, errSink),
          ...(spawnError === undefined ? {} : { spawnError }),
        });
      };
      child.on("error", (e) => {
        // Node reports a missing cwd as the shell not being found: say what is really missing.
        const why = existsSync(spec.cwd) ? e.message : `working directory "${spec.cwd}" does not exist`;
        void finish(null, null, why);
      });
      child.on("spawn", () => {
        if (child.pid !== undefined) {
          this.live.add(child.pid);
          spec.onSpawn?.(child.pid);
        }
        if (abort.aborted) stop();
      });
      child.on("close", (code, signal) => void finish(code, signal));
      // A backgrounded grandchild may keep the pipes open after the shell exits:
      // give the output a moment to drain, then stop waiting for it.
      child.on("exit", (code, signal) => {
        timers.push(
          setLongTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            void finish(code, signal);
          }, 250),
        );
      });
    });
  }
}
