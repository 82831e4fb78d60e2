/**
 * THE read path for a run: find it by id prefix, read its journal, classify
 * it and check the order of its events (journal/order.ts), learn whether a
 * live process owns it, and fold it into a RunState. Every command that reads
 * a run goes through readRun(), the follow loop of `wf logs -f` and
 * `wf resume --dry-run` included, so one journal gets one answer everywhere.
 * Read-only: a torn tail is reported (tornBytes), never repaired here.
 */
import { readFile } from "node:fs/promises";
import type { JournalRecord } from "../journal/events.ts";
import { foldJournal, JournalFold, type RunState } from "../journal/fold.ts";
import { checkJournal, orderChecked, scanCheckedJournal, type Verdict } from "../journal/order.ts";
import { type Classification, type RecordSink, type Scan, scanJournalFile } from "../journal/reader.ts";
import { type Failure, fsCall, fsProblem, type RunAction, type RunProblem } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { lockHolder } from "./lock.ts";
import { resolveRunId, runPaths } from "./paths.ts";
import { checkRunDir } from "./trust.ts";

/** A run's journal, read, checked and folded, without its records. */
export interface RunSummary {
  readonly id: string;
  readonly dir: string;
  readonly journalPath: string;
  /** Intact lines in the journal (records). */
  readonly lines: number;
  /** Bytes after the last intact line (an interrupted write); 0 when clean. */
  readonly tornBytes: number;
  /** A live process holds the run's lock. */
  readonly live: boolean;
  readonly state: RunState;
  /**
   * Only with `intactPrefix`: the journal is corrupt at this line, and
   * everything above was read from the intact lines before it.
   */
  readonly damage?: { readonly line: number; readonly offset: number; readonly reason: string };
}

/** A run's journal, read, checked and folded, with every record as read. */
export interface OpenedRun extends RunSummary {
  readonly records: readonly JournalRecord[];
}

/**
 * What readRun keeps. `keepRecords: false` folds while reading and keeps no
 * record (a RunSummary): for commands that print the state, on journals of
 * any length. The checks and every answer are the same either way.
 */
export interface ReadOptions {
  readonly keepRecords: boolean;
  /**
   * For forensics (`wf show`, `wf logs`, `wf export`): a corrupt journal is
   * read up to its first bad line, and the run is answered from those intact
   * lines with `damage` set, instead of refused. Writers (resume) never ask.
   */
  readonly intactPrefix?: boolean;
  /**
   * Sees each record the fold takes, in order, as it is read (a timeline, a
   * report): with `keepRecords: false`, a command that needs more than the
   * state still reads the journal once and keeps none of it.
   */
  readonly onRecord?: (r: JournalRecord) => void;
}

/** Reads a journal's bytes; a missing file or any file-system problem is a RunProblem. */
export async function readJournalBytes(path: string): Promise<Result<Uint8Array, RunProblem>> {
  try {
    return ok(await readFile(path));
  } catch (e) {
    return err(journalProblem(path, e));
  }
}

/** What a file-system error reading the journal at `path` means for its run; any other error is rethrown. */
function journalProblem(path: string, e: unknown): RunProblem {
  const problem = fsProblem(e);
  if (problem === undefined) throw e;
  return problem === "missing" ? { kind: "no-journal" } : { kind: "fs", path, problem };
}

/** scanJournalFile, with what the file system says as readJournalBytes says it. */
async function scanJournalFileOf(path: string, onRecord: RecordSink): Promise<Result<Scan, RunProblem>> {
  try {
    return ok(await scanJournalFile(path, onRecord));
  } catch (e) {
    return err(journalProblem(path, e));
  }
}

/** Classification, order and fold of a journal's bytes. Pure. */
export function interpretJournal(bytes: Uint8Array, live: boolean): Result<{ classified: Exclude<Classification, { kind: "corrupt" }>; state: RunState }, RunProblem> {
  const c = checkJournal(bytes);
  if (c.kind === "corrupt") return err({ kind: "corrupt", line: c.line, offset: c.offset, reason: c.reason });
  const state = foldRecords(c.records, live);
  return state.ok ? ok({ classified: c, state: state.value }) : state;
}

/** The fold of a checked journal's records. */
export function foldRecords(records: readonly JournalRecord[], live: boolean): Result<RunState, RunProblem> {
  if (records.length === 0) return err({ kind: "empty" });
  const folded = foldJournal(records, live);
  return folded.ok ? ok(folded.value) : err({ kind: "incomplete" });
}

/** Reads one run by its full id. Never modifies anything. */
export async function readRun(stateDir: string, id: string, action: RunAction): Promise<Result<OpenedRun, Failure>>;
export async function readRun(stateDir: string, id: string, action: RunAction, opts: ReadOptions & { keepRecords: false }): Promise<Result<RunSummary, Failure>>;
export async function readRun(stateDir: string, id: string, action: RunAction, opts: ReadOptions & { keepRecords: true }): Promise<Result<OpenedRun, Failure>>;
export async function readRun(stateDir: string, id: string, action: RunAction, opts: ReadOptions): Promise<Result<RunSummary | OpenedRun, Failure>>;
export async function readRun(stateDir: string, id: string, action: RunAction, opts: ReadOptions = { keepRecords: true }): Promise<Result<RunSummary | OpenedRun, Failure>> {
  const paths = runPaths(stateDir, id);
  // A run's folder another user could have written is never read, let alone resumed.
  const trusted = checkRunDir(paths.dir);
  if (!trusted.ok) return trusted;
  const unusable = (problem: RunProblem): Result<never, Failure> => err({ kind: "run-unusable", action, runId: id, problem });
  const records: JournalRecord[] | undefined = opts.keepRecords ? [] : undefined;
  // The journal is read, checked and folded as it is read, a few MiB at a time, then the lock tells whether it is live.
  const fold = new JournalFold();
  const also = opts.onRecord;
  const checked = orderChecked(records === undefined && also === undefined ? (r) => fold.add(r) : (r) => {
    fold.add(r);
    records?.push(r);
    also?.(r);
  });
  const scan = await scanJournalFileOf(paths.journal, checked.sink);
  if (!scan.ok) return unusable(scan.error);
  const holder = await fsCall("read the lock", paths.lock, () => lockHolder(paths.lock));
  if (!holder.ok) return holder;
  const live = holder.value !== undefined;
  const verdict = checked.verdict(scan.value);
  // Forensics read a damaged journal up to its first bad line: the fold holds exactly the lines before it.
  const damage = verdict.kind === "corrupt" && opts.intactPrefix === true && verdict.lines > 0
    ? { line: verdict.line, offset: verdict.offset, reason: verdict.reason }
    : undefined;
  const read = finishFold(damage === undefined ? verdict : { kind: "clean", lines: verdict.lines }, fold, live);
  if (!read.ok) return unusable(damage === undefined ? read.error : { kind: "corrupt", ...damage });
  const v = read.value.verdict;
  const summary: RunSummary = {
    id,
    dir: paths.dir,
    journalPath: paths.journal,
    lines: v.lines,
    tornBytes: v.kind === "torn" ? v.tornBytes : 0,
    live,
    state: read.value.state,
    ...(damage === undefined ? {} : { damage }),
  };
  return ok(records === undefined ? summary : { ...summary, records });
}

/**
 * The state of the run whose journal is at `path`, read a few MiB at a time
 * and checked as readRun checks it, keeping no record: for the execution that
 * has just journaled its final status (it holds the run's lock, so it reads
 * the journal by its path, with no lock to ask).
 */
export async function foldJournalFile(path: string, live: boolean): Promise<Result<RunState, RunProblem>> {
  const fold = new JournalFold();
  const checked = orderChecked((r) => fold.add(r));
  const scan = await scanJournalFileOf(path, checked.sink);
  if (!scan.ok) return scan;
  const read = finishFold(checked.verdict(scan.value), fold, live);
  return read.ok ? ok(read.value.state) : read;
}

/**
 * interpretJournal one record at a time: checks and folds a journal's bytes
 * without keeping its records (`onRecord` sees each one, for a caller that
 * wants them). Pure apart from `onRecord`; the answers are interpretJournal's.
 */
export function foldJournalBytes(
  bytes: Uint8Array,
  live: boolean,
  onRecord?: (r: JournalRecord) => void,
): Result<{ verdict: Exclude<Verdict, { kind: "corrupt" }>; state: RunState }, RunProblem> {
  const fold = new JournalFold();
  const verdict = scanCheckedJournal(bytes, onRecord === undefined ? (r) => fold.add(r) : (r) => {
    fold.add(r);
    onRecord(r);
  });
  return finishFold(verdict, fold, live);
}

/** The state folded from a journal the verdict accepts, or its problem. */
function finishFold(verdict: Verdict, fold: JournalFold, live: boolean): Result<{ verdict: Exclude<Verdict, { kind: "corrupt" }>; state: RunState }, RunProblem> {
  if (verdict.kind === "corrupt") return err({ kind: "corrupt", line: verdict.line, offset: verdict.offset, reason: verdict.reason });
  if (verdict.lines === 0) return err({ kind: "empty" });
  const folded = fold.finish(live);
  return folded.ok ? ok({ verdict, state: folded.value }) : err({ kind: "incomplete" });
}

/** Finds a run by what the user typed and reads it. */
export async function openRun(stateDir: string, prefix: string, action: RunAction): Promise<Result<OpenedRun, Failure>>;
export async function openRun(stateDir: string, prefix: string, action: RunAction, opts: ReadOptions & { keepRecords: false }): Promise<Result<RunSummary, Failure>>;
export async function openRun(stateDir: string, prefix: string, action: RunAction, opts: ReadOptions & { keepRecords: true }): Promise<Result<OpenedRun, Failure>>;
export async function openRun(stateDir: string, prefix: string, action: RunAction, opts: ReadOptions = { keepRecords: true }): Promise<Result<RunSummary | OpenedRun, Failure>> {
  const id = resolveRunId(stateDir, prefix);
  return id.ok ? readRun(stateDir, id.value, action, opts) : id;
}
