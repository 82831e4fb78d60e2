/**
 * The only code that writes journals: create (temp, fsync, rename, fsync dir),
 * append with group commit, and reopen for append with torn-tail repair.
 *
 *   append() ──> pending ──(next flush)──> one write() ──> fdatasync ──> resolve all
 *                   ^   lines queued while a flush is under way wait for the next one
 *
 * After a failed write or fsync the writer is dead: every later append rejects.
 * Retrying an fsync is unsafe (the kernel may have dropped the dirty pages).
 */
import { constants } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { encodeRecord } from "./line.ts";
import { orderChecked, type Verdict } from "./order.ts";
import { type RecordSink, scanJournalFile } from "./reader.ts";
import type { AppendableEvent, JournalRecord } from "./events.ts";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";
import { type Failure, type FsProblem, fsProblem, type RunProblem } from "../util/failure.ts";

export type { AppendableEvent } from "./events.ts";

export const JOURNAL_FILE = "journal.jsonl";
const TEMP_FILE = ".journal.jsonl.tmp";

export interface JournalWriter {
  readonly path: string;
  readonly runId: string;
  /**
   * Queues the event; resolves with the record once it is on disk (fdatasync'd).
   * Lines queued while a flush is under way share the next flush (group commit).
   * If a write or fsync fails, this and every later call reject with a
   * JournalWriteError (an fsync is never retried).
   */
  append(event: AppendableEvent): Promise<JournalRecord>;
  /** Waits for pending flushes, closes the file. */
  close(): Promise<void>;
  /** How many fdatasync calls were made (for tests/benchmarks of group commit). */
  readonly syncCount: number;
}

/**
 * A journal write or fsync failed; the run must stop. Thrown by append() like
 * any file-system error, and turned into its Failure where append() is called
 * (the engine and executeRun), so it never travels further as a throw.
 */
export class JournalWriteError extends Error {
  readonly failure: Failure;

  constructor(
    readonly path: string,
    readonly problem: FsProblem,
  ) {
    super(`journal write failed: ${path}`);
    this.name = "JournalWriteError";
    this.failure = { kind: "journal-write", path, problem };
  }
}

interface Pending {
  readonly line: string;
  readonly record: JournalRecord;
  readonly resolve: (r: JournalRecord) => void;
  readonly reject: (e: unknown) => void;
}

const encoder = new TextEncoder();

class GroupCommitWriter implements JournalWriter {
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #failed: JournalWriteError | undefined;
  #closed = false;
  #syncs = 0;
  #seq: number;

  constructor(
    readonly path: string,
    readonly runId: string,
    private readonly fh: FileHandle,
    nextSeq: number,
    private readonly now: () => Date,
  ) {
    this.#seq = nextSeq;
  }

  get syncCount(): number {
    return this.#syncs;
  }

  append(event: AppendableEvent): Promise<JournalRecord> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new Error(`Internal error: append to closed journal "${this.path}"`));
    if ((event as { type: string }).type === "header") {
      return Promise.reject(new Error("Internal error: a header can only be written by createJournal"));
    }
    const { line, record } = encodeRecord({ seq: this.#seq++, ts: this.now().toISOString(), run: this.runId }, event);
    return new Promise<JournalRecord>((resolve, reject) => {
      this.#pending.push({ line, record, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  async #flushLoop(): Promise<void> {
    // Let appends made in the same tick join the first flush.
    await null;
    try {
      while (this.#pending.length > 0 && !this.#failed) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          await writeAll(this.fh, encoder.encode(batch.map((p) => p.line).join("")));
          this.#syncs++;
          await this.fh.datasync();
        } catch (e) {
          this.#failed = new JournalWriteError(this.path, problemOf(e));
          for (const p of [...batch, ...this.#pending]) p.reject(this.#failed);
          this.#pending = [];
          return;
        }
        for (const p of batch) p.resolve(p.record);
      }
    } finally {
      // Synchronous with the emptiness check above, so no append can be stranded.
      this.#flushing = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing) await this.#flushing;
    await this.fh.close();
  }
}

/**
 * Creates `journal.jsonl` in `runDir` (made 0700 if missing) with its header:
 * written under a temporary name, fsync'd, renamed into place, directory fsync'd.
 * Throws JournalWriteError if it cannot, or if the run already has a journal.
 */
export async function createJournal(opts: {
  runDir: string;
  runId: string;
  writer: string;
  now?: () => Date;
}): Promise<JournalWriter> {
  const now = opts.now ?? (() => new Date());
  const path = join(opts.runDir, JOURNAL_FILE);
  const temp = join(opts.runDir, TEMP_FILE);
  let fh: FileHandle | undefined;
  try {
    await mkdir(opts.runDir, { recursive: true, mode: 0o700 });
    if (await exists(path)) throw Object.assign(new Error("the run already has a journal"), { code: "EEXIST" });
    await rm(temp, { force: true }); // left by a crash during creation: it never became the journal
    fh = await open(temp, "ax", 0o600);
    const { line } = encodeRecord(
      { seq: 0, ts: now().toISOString(), run: opts.runId },
      { type: "header", format: 1, writer: opts.writer },
    );
    await writeAll(fh, encoder.encode(line));
    await fh.sync();
    await rename(temp, path);
    await fsyncDir(opts.runDir);
  } catch (e) {
    await fh?.close().catch(() => {});
    await rm(temp, { force: true }).catch(() => {});
    throw new JournalWriteError(path, problemOf(e));
  }
  return new GroupCommitWriter(path, opts.runId, fh, 1, now);
}

/**
 * Opens an existing journal to append to it; only a holder of the run's lock may.
 * A corrupt journal is refused. A torn tail is saved beside the journal as
 * `journal.jsonl.torn-<unix-ms>`, cut off, and a `recovered` record appended.
 * `records` are the intact records found, before any repair.
 */
export async function openJournalForAppend(opts: {
  path: string;
  runId: string;
  writer: string;
  now?: () => Date;
  /** Sees each record as it is read and checked (a fold, say): the journal is read once, a few MiB at a time, and no record is kept. */
  onRecord?: RecordSink;
}): Promise<
  Result<
    { writer: JournalWriter; lines: number; recovered?: { droppedBytes: number; savedTo: string } },
    RunProblem
  >
> {
  const { path } = opts;
  const now = opts.now ?? (() => new Date());
  let writing = false;
  /** A file-system error as the read path names it; anything else is a bug. */
  const ioError = (e: unknown): RunProblem => {
    const problem = e instanceof JournalWriteError ? e.problem : fsProblem(e);
    if (problem === undefined) throw e;
    if (problem === "missing" && !writing) return { kind: "no-journal" };
    return { kind: "fs", path, problem, ...(writing ? { writing: true } : {}) };
  };
  let header: JournalRecord | undefined;
  const checked = orderChecked((r, offset) => {
    header ??= r;
    opts.onRecord?.(r, offset);
  });
  let c: Verdict;
  try {
    // Never through a symbolic link planted in the journal's place (ELOOP: "symbolic-link").
    c = checked.verdict(await scanJournalFile(path, checked.sink));
  } catch (e) {
    return err(ioError(e));
  }
  if (c.kind === "corrupt") return err({ kind: "corrupt", line: c.line, offset: c.offset, reason: c.reason });
  if (!header) return err({ kind: "empty" });
  if (header.run !== opts.runId) {
    return err({ kind: "corrupt", line: 1, offset: 0, reason: `it belongs to run "${header.run}", not "${opts.runId}"` });
  }
  writing = true;
  let recovered: { droppedBytes: number; savedTo: string } | undefined;
  let fh: FileHandle | undefined;
  try {
    if (c.kind === "torn") {
      const cut = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
      try {
        const torn = new Uint8Array(c.tornBytes);
        const { bytesRead } = await cut.read(torn, 0, torn.length, c.goodBytes);
        const savedTo = await saveTornBytes(path, torn.subarray(0, bytesRead), now());
        await cut.truncate(c.goodBytes);
        await cut.sync();
        recovered = { droppedBytes: c.tornBytes, savedTo };
      } finally {
        await cut.close();
      }
      await fsyncDir(dirname(path));
    }
    fh = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    return err(ioError(e));
  }
  const writer = new GroupCommitWriter(path, opts.runId, fh, c.lines, now);
  if (recovered) {
    try {
      await writer.append({ type: "recovered", dropped_bytes: recovered.droppedBytes, saved_to: basename(recovered.savedTo) });
    } catch (e) {
      await writer.close().catch(() => {});
      return err(ioError(e));
    }
  }
  return ok(recovered ? { writer, lines: c.lines, recovered } : { writer, lines: c.lines });
}

/** Writes the cut bytes to a new file beside the journal, durably; returns its path. */
async function saveTornBytes(path: string, torn: Uint8Array, at: Date): Promise<string> {
  for (let n = 0; ; n++) {
    const saved = `${path}.torn-${at.getTime()}${n === 0 ? "" : `-${n}`}`;
    let fh: FileHandle;
    try {
      fh = await open(saved, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && n < 100) continue;
      throw e;
    }
    try {
      const { bytesWritten } = await fh.write(torn, 0, torn.length);
      if (bytesWritten !== torn.length) throw new Error(`short write (${bytesWritten} of ${torn.length} bytes)`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return saved;
  }
}

/** Makes a rename or a new file in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes every byte: a write cut short (a disk filling up) is continued, so
 * the errno of the failing part (ENOSPC) is what gets reported.
 */
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
    if (bytesWritten === 0) throw Object.assign(new Error("a write made no progress"), { code: "EIO" });
    done += bytesWritten;
  }
}

/** What a failed journal write or sync ran into; an error without an errno is an I/O error. */
function problemOf(e: unknown): FsProblem {
  if (e instanceof JournalWriteError) return e.problem;
  return fsProblem(e) ?? "io-error";
}
