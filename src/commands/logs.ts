/**
 * `wf logs <run> [task]`: each attempt's output, in the order attempts started,
 * with a header per attempt. `-f` follows a live run: it polls the journal and
 * the log files and stops once the run has a final status or no live process
 * holds its lock.
 *
 *   print what is there ──run ended or not live──> drain once more, stop
 *          ^                    │ still going
 *          └──── sleep 250ms ───┘
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join, normalize, sep } from "node:path";
import type { Io } from "../platform/io.ts";
import { type ByteSink, stdoutSink } from "../platform/output.ts";
import { inert } from "../report/inert.ts";
import { warnDamage } from "../report/failure.ts";
import type { JournalRecord } from "../journal/events.ts";
import { openRun, readRun, type OpenedRun as LoadedRun } from "../runs/open.ts";
import type { Failure, Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { parseNodeId } from "../workflow/node-id.ts";

export interface LogsOptions {
  readonly attempt?: number;
  readonly tail?: number;
  readonly follow: boolean;
  /** Print the bytes as they are, even to a terminal. */
  readonly raw?: boolean;
  /** Poll interval for `-f`. */
  readonly pollMs?: number;
}

/** One attempt's logs, as the journal names them. */
export interface LogAttempt {
  readonly task: string;
  readonly attempt: number;
  readonly stdoutLog: string;
  readonly stderrLog: string;
  readonly forensicFor?: string;
}

/** Every attempt that started, in journal order. */
export function attemptsOf(records: readonly JournalRecord[]): LogAttempt[] {
  const out: LogAttempt[] = [];
  for (const r of records) {
    if (r.type !== "task_started") continue;
    out.push({
      task: r.task, attempt: r.attempt, stdoutLog: r.stdout_log, stderrLog: r.stderr_log,
      ...(r.forensic_for === undefined ? {} : { forensicFor: r.forensic_for }),
    });
  }
  return out;
}

/**
 * Whether `selector` names this node, as `depends_on` does: its id, its task
 * for every cell of a matrix (`publish` for `publish[os=linux]`), or some of
 * the matrix values (`test[os=linux]` for `test[os=linux,node=20]`).
 */
export function matchesTask(node: string, selector: string): boolean {
  if (node === selector) return true;
  const n = parseNodeId(node);
  const want = parseNodeId(selector);
  if (n === undefined || want === undefined || n.task !== want.task) return false;
  return want.pairs.every(([k, v]) => n.pairs.some(([k2, v2]) => k2 === k && v2 === v));
}

/** Picks the attempts to show; an unknown task or attempt is a usage error naming what exists. */
export function selectAttempts(run: LoadedRun, attempts: readonly LogAttempt[], task: string | undefined, attempt: number | undefined): Result<LogAttempt[], Failure> {
  let chosen = [...attempts];
  if (task !== undefined) {
    const known = [...run.state.tasks.keys(), ...run.state.forensic.map((f) => f.task)];
    if (!known.some((n) => matchesTask(n, task))) {
      const shown = known.slice(0, 20).map((n) => `"${n}"`).join(", ") + (known.length > 20 ? ` and ${known.length - 20} more` : "");
      return err({ kind: "usage", message: `Run "${run.id}" has no task "${task}": its tasks are ${shown}` });
    }
    chosen = chosen.filter((a) => matchesTask(a.task, task));
  }
  if (attempt !== undefined) {
    const before = chosen;
    chosen = chosen.filter((a) => a.attempt === attempt);
    if (chosen.length === 0 && task !== undefined && before.length > 0) {
      const have = [...new Set(before.map((a) => a.attempt))].join(", ");
      return err({ kind: "usage", message: `Task "${task}" of run "${run.id}" has no attempt ${attempt}: its attempts are ${have}` });
    }
  }
  return ok(chosen);
}

/** The last `n` lines of `text`. */
export function tailLines(text: string, n: number): string {
  const lines = text.split("\n");
  const trailing = text.endsWith("\n");
  if (trailing) lines.pop();
  const kept = lines.slice(Math.max(0, lines.length - n)).join("\n");
  return kept === "" ? "" : trailing ? `${kept}\n` : kept;
}

/**
 * The path of a log the journal names, if it stays inside the run's folder.
 * A journal is data from disk: a path that climbs out (`../`, absolute) is
 * never read.
 */
export function logPathIn(runDir: string, logPath: string): string | undefined {
  const full = normalize(join(runDir, logPath));
  return full.startsWith(normalize(runDir) + sep) ? full : undefined;
}

const CHUNK = 1 << 20;

/** Which of an attempt's files an offset is for. */
const fileKey = (a: LogAttempt, stream: "stdout" | "stderr") => `${a.task}#${a.attempt}#${stream}`;

/** Opens a log without following a symbolic link planted among the logs; undefined when it cannot be read (not created yet, removed, a link). */
async function openLog(path: string | undefined): Promise<FileHandle | undefined> {
  if (path === undefined) return undefined;
  return open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
}

/** The offset just after the `count`-th newline from `end` backwards, not before `start`; undefined if there are fewer. Read in chunks from the end. */
async function afterNewlineBack(fh: FileHandle, start: number, end: number, count: number): Promise<number | undefined> {
  const buf = new Uint8Array(Math.min(CHUNK, Math.max(1, end - start)));
  let seen = 0;
  for (let to = end; to > start;) {
    const from = Math.max(start, to - buf.length);
    const { bytesRead } = await fh.read(buf, 0, to - from, from);
    for (let i = bytesRead - 1; i >= 0; i--) if (buf[i] === 0x0a && ++seen === count) return from + i + 1;
    to = from;
  }
  return undefined;
}

/** Prints log bytes with a header whenever the output switches to another file, as `tail -f` does; bytes go out in chunks, as they are, or made inert for a terminal. */
class LogPrinter {
  private readonly offsets = new Map<string, number>();
  private current: string | undefined;
  private atLineStart = true;
  /** stdout takes nothing more (a reader that stopped, a failed write): printing stops. */
  stopped = false;

  constructor(
    private readonly dir: string,
    private readonly sink: ByteSink,
    /** Control characters escaped (report/inert.ts): on a terminal, without --raw. */
    private readonly escape: boolean,
  ) {}

  private async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.stopped && !(await this.sink.write(chunk))) this.stopped = true;
  }

  private async header(a: LogAttempt, stream: "stdout" | "stderr"): Promise<void> {
    const key = fileKey(a, stream);
    if (this.current === key) return;
    if (!this.atLineStart) await this.write("\n");
    const forensic = a.forensicFor === undefined ? "" : `, forensic for ${a.forensicFor === "*" ? "the workflow" : `"${a.forensicFor}"`}`;
    const text = `==> ${a.task} (attempt ${a.attempt}${stream === "stderr" ? ", stderr" : ""}${forensic}) <==`;
    await this.write(`${this.escape ? inert(text) : text}\n`);
    this.current = key;
    this.atLineStart = true;
  }

  /** Copies bytes [from, to) of a log in chunks; a code point cut between chunks is decoded whole (a streaming decoder). */
  private async copy(fh: FileHandle, from: number, to: number): Promise<void> {
    const buf = new Uint8Array(Math.min(CHUNK, to - from));
    const decoder = new TextDecoder();
    let last = -1;
    for (let at = from; at < to && !this.stopped;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
      const chunk = buf.subarray(0, bytesRead);
      last = chunk[bytesRead - 1]!;
      // stdout may hold a chunk until it is written: each is a copy.
      await this.write(this.escape ? inert(decoder.decode(chunk, { stream: true })) : chunk.slice());
    }
    if (this.escape) await this.write(inert(decoder.decode()));
    if (last !== -1) this.atLineStart = last === 0x0a;
  }

  /** Calls `body` for each of the attempt's files that grew past what was printed of it, open, with that offset and its size. */
  private async grown(a: LogAttempt, body: (fh: FileHandle, stream: "stdout" | "stderr", offset: number, size: number) => Promise<void>): Promise<void> {
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.stopped) return;
      const fh = await openLog(logPathIn(this.dir, stream === "stdout" ? a.stdoutLog : a.stderrLog));
      if (fh === undefined) continue;
      try {
        const offset = this.offsets.get(fileKey(a, stream)) ?? 0;
        const size = (await fh.stat()).size;
        if (size > offset) await body(fh, stream, offset, size);
      } finally {
        await fh.close();
      }
    }
  }

  /** Prints what is new in the attempt's files. `tail` applies to a file seen for the first time. */
  async print(a: LogAttempt, tail: number | undefined): Promise<void> {
    const first = !this.offsets.has(fileKey(a, "stdout"));
    if (first) await this.header(a, "stdout");
    await this.grown(a, async (fh, stream, offset, size) => {
      // Only whole lines while following, so a line being written is not cut by a header.
      const end = (await afterNewlineBack(fh, offset, size, 1)) ?? offset;
      this.offsets.set(fileKey(a, stream), end);
      if (end === offset) return;
      const start = first && tail !== undefined ? ((await afterNewlineBack(fh, offset, end, tail + 1)) ?? offset) : offset;
      if (start === end) return;
      await this.header(a, stream);
      await this.copy(fh, start, end);
    });
  }

  /** At the end: what is left after the last newline of each file (a last line without one). */
  async flushPartial(attempts: readonly LogAttempt[]): Promise<void> {
    for (const a of attempts) {
      if (this.stopped) return;
      await this.grown(a, async (fh, stream, offset, size) => {
        this.offsets.set(fileKey(a, stream), size);
        await this.header(a, stream);
        await this.copy(fh, offset, size);
      });
    }
    if (!this.atLineStart) await this.write("\n");
    this.atLineStart = true;
  }
}

export async function logsCommand(
  stateDir: string,
  prefix: string,
  task: string | undefined,
  opts: LogsOptions,
  io: Io,
): Promise<Outcome> {
  // Logs are what an investigator needs most: a damaged journal is read up to its first bad line.
  const opened = await openRun(stateDir, prefix, "read", { keepRecords: true, intactPrefix: true });
  if (!opened.ok) return opened;
  let run = opened.value;
  warnDamage(run, io);
  // A log's bytes as they are, but on a terminal without --raw: there a control character of task data is shown escaped.
  const printer = new LogPrinter(run.dir, stdoutSink(io), io.stdoutIsTTY && opts.raw !== true);
  let tail = opts.tail;
  for (;;) {
    const ended = run.state.endedAt !== undefined || !run.live;
    const chosen = selectAttempts(run, attemptsOf(run.records), task, opts.attempt);
    if (!chosen.ok) return chosen;
    for (const a of chosen.value) await printer.print(a, tail);
    // stdout takes nothing more: a failed write is reported once flushed (cli/main.ts), EPIPE is quiet.
    if (printer.stopped) return ok(0);
    // --tail cuts what was there at the start; what comes later while following is printed whole.
    tail = undefined;
    if (!opts.follow || ended) {
      await printer.flushPartial(chosen.value);
      return ok(0);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    // The same read path as every command: a journal damaged meanwhile stops the follow with the same sentence.
    const again = await readRun(stateDir, run.id, "follow", { keepRecords: true, intactPrefix: true });
    if (!again.ok) return again;
    if (again.value.damage !== undefined && run.damage === undefined) warnDamage(again.value, io);
    run = again.value;
  }
}
