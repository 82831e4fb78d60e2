/**
 * Run summaries and the run index, so `wf runs` costs what `--limit` asks for.
 *
 * `<state>/index.jsonl` holds one line per run start, oldest first:
 * `{"id":"7fQ2kLx9ab","workflow":"ci","tags":["nightly"],"started":"2025-01-08T02:00:00.000Z"}`.
 * `wf run` appends it (appendRunIndex) once the journal exists. `wf runs` reads
 * it from its end backwards, a chunk at a time, and opens only the journals of
 * the runs it shows. The index is a cache: journals stay the truth.
 *
 *   index missing, or runs/ changed after the index (mtime)  ──rebuild from every journal──> fresh
 *   fresh ──wf run appends──> fresh     fresh ──wf prune rewrites──> fresh
 *
 * A run directory created or removed without the index being written after it
 * (an older wf, a crash between, a hand-made change) makes `runs/` newer than
 * the index, and the next listing rebuilds it once. `wf runs --reindex` forces that.
 */
import { appendFile, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { JournalRecord } from "../journal/events.ts";
import { foldJournal, type RunState } from "../journal/fold.ts";
import { isLockLive } from "./lock.ts";
import { classifyJournal } from "../journal/reader.ts";
import { runDir } from "./paths.ts";

export const INDEX_FILE = "index.jsonl";

/** One line of the run index. */
export interface RunIndexEntry {
  readonly id: string;
  readonly workflow: string;
  readonly tags: readonly string[];
  /** When the run started, ISO 8601 UTC. */
  readonly started: string;
}

/** Parses one index line; undefined for a torn or foreign line, which readers skip. */
export function parseIndexLine(line: string): RunIndexEntry | undefined {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o["id"] !== "string" || !/^[0-9A-Za-z]+$/.test(o["id"])) return undefined;
    const tags = Array.isArray(o["tags"]) ? o["tags"].filter((t): t is string => typeof t === "string") : [];
    return {
      id: o["id"],
      workflow: typeof o["workflow"] === "string" ? o["workflow"] : "",
      tags,
      started: typeof o["started"] === "string" ? o["started"] : "",
    };
  } catch {
    return undefined;
  }
}

export function indexLine(entry: RunIndexEntry): string {
  return `${JSON.stringify({ id: entry.id, workflow: entry.workflow, tags: entry.tags, started: entry.started })}\n`;
}

/**
 * Records a new run in the index (one appended line). Call it once the run's
 * journal exists. Never throws: the index is a cache, and a run missing from
 * it is found by the next rebuild.
 */
export async function appendRunIndex(stateDir: string, entry: RunIndexEntry): Promise<boolean> {
  try {
    await appendFile(join(stateDir, INDEX_FILE), indexLine(entry), { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/** Reads a file from its end: yields its lines last first, reading `chunk` bytes at a time. */
export async function* linesBackwards(path: string, chunk = 64 * 1024): AsyncGenerator<string> {
  const fh = await open(path, "r");
  try {
    let pos = (await fh.stat()).size;
    let carry: Uint8Array = new Uint8Array(0);
    const decoder = new TextDecoder();
    while (pos > 0) {
      const size = Math.min(chunk, pos);
      pos -= size;
      const buf = new Uint8Array(size + carry.length);
      await fh.read(buf, 0, size, pos);
      buf.set(carry, size);
      // Split on newline bytes, so a multi-byte character is never cut in two.
      let end = buf.length;
      for (let i = buf.length - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) continue;
        if (i + 1 < end) yield decoder.decode(buf.subarray(i + 1, end));
        end = i;
      }
      carry = buf.slice(0, end);
    }
    if (carry.length > 0) yield decoder.decode(carry);
  } finally {
    await fh.close();
  }
}

/** What `wf runs` shows of one run. */
export interface RunSummary {
  readonly id: string;
  readonly workflow: string;
  readonly tags: readonly string[];
  /** The folded status, or `unreadable` when the journal is corrupt or has no run_started line. */
  readonly status: RunState["status"] | "unreadable";
  /** A live process holds the run's lock. */
  readonly live: boolean;
  readonly startedAt: string;
  readonly endedAt?: string;
  /** From the start to the final status, or to the last line (now, for a live run). */
  readonly durationMs: number | null;
  /** Tasks that succeeded or were skipped, and all normal tasks. */
  readonly done: number;
  readonly total: number;
  /** Why the journal could not be folded, for `unreadable`. */
  readonly problem?: string;
}

/** A run's journal read and folded; the torn tail, if any, is ignored (and reported by the caller). */
export interface LoadedRun {
  readonly id: string;
  readonly dir: string;
  readonly journalPath: string;
  readonly records: JournalRecord[];
  readonly tornBytes: number;
  readonly live: boolean;
  readonly state: RunState;
}

type LoadResult = { ok: true; run: LoadedRun } | { ok: false; missing: boolean; message: string };

/** Reads, classifies and folds one run's journal. Never modifies anything. */
export async function loadRun(stateDir: string, id: string): Promise<LoadResult> {
  const dir = runDir(stateDir, id);
  const journalPath = join(dir, "journal.jsonl");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(journalPath);
  } catch (e) {
    const missing = (e as { code?: string }).code === "ENOENT";
    const reason = missing ? "it has no journal" : (e as Error).message;
    return { ok: false, missing, message: `Cannot read run "${id}": ${reason}` };
  }
  const c = classifyJournal(bytes);
  if (c.kind === "corrupt") {
    return { ok: false, missing: false, message: `Journal "${journalPath}" is corrupt at line ${c.line} (byte ${c.offset}): ${c.reason}` };
  }
  if (c.records.length === 0) return { ok: false, missing: false, message: `Cannot read run "${id}": its journal is empty` };
  const live = await isLockLive(join(dir, "lock"));
  const folded = foldJournal(c.records, live);
  if (!folded.ok) return { ok: false, missing: false, message: folded.error };
  return {
    ok: true,
    run: { id, dir, journalPath, records: c.records, tornBytes: c.kind === "torn" ? c.tornBytes : 0, live, state: folded.value },
  };
}

/** Duration of a run as shown: start to final status, or to now while it is live, or to its last line. */
export function runDurationMs(state: RunState, live: boolean, now: number = Date.now()): number {
  const start = Date.parse(state.startedAt);
  const end = state.endedAt !== undefined ? Date.parse(state.endedAt) : live ? now : Date.parse(state.lastRecordAt);
  return Math.max(0, end - start);
}

export function summarize(run: LoadedRun): RunSummary {
  const s = run.state;
  let done = 0;
  for (const t of s.tasks.values()) if (t.state === "succeeded" || t.state === "skipped") done++;
  return {
    id: run.id,
    workflow: s.started.workflow,
    tags: s.started.tags,
    status: s.status,
    live: run.live,
    startedAt: s.startedAt,
    ...(s.endedAt === undefined ? {} : { endedAt: s.endedAt }),
    durationMs: runDurationMs(s, run.live),
    done,
    total: s.tasks.size,
  };
}

function unreadable(entry: RunIndexEntry, message: string): RunSummary {
  return {
    id: entry.id, workflow: entry.workflow, tags: entry.tags, status: "unreadable", live: false,
    startedAt: entry.started, durationMs: null, done: 0, total: 0, problem: message,
  };
}

export interface ListFilter {
  readonly limit: number;
  readonly workflow?: string;
  readonly status?: string;
  readonly tag?: string;
}

/**
 * The newest runs that pass the filter, newest first. Reads the index from its
 * end and opens only the journals of runs that pass the index's filters
 * (workflow, tag): with no filter, `limit` journals.
 */
export async function listRuns(stateDir: string, filter: ListFilter): Promise<RunSummary[]> {
  if (!(await ensureFreshIndex(stateDir))) return [];
  const out: RunSummary[] = [];
  const seen = new Set<string>();
  for await (const line of linesBackwards(join(stateDir, INDEX_FILE))) {
    if (out.length >= filter.limit) break;
    const entry = parseIndexLine(line);
    if (entry === undefined || seen.has(entry.id)) continue;
    seen.add(entry.id);
    if (filter.workflow !== undefined && entry.workflow !== filter.workflow && entry.workflow !== "") continue;
    if (filter.tag !== undefined && !entry.tags.includes(filter.tag) && entry.workflow !== "") continue;
    const loaded = await loadRun(stateDir, entry.id);
    if (!loaded.ok && loaded.missing) continue; // pruned, or removed by hand
    const summary = loaded.ok ? summarize(loaded.run) : unreadable(entry, loaded.message);
    // The journal is the truth: an entry written before run_started may lack the workflow.
    if (filter.workflow !== undefined && summary.workflow !== filter.workflow) continue;
    if (filter.tag !== undefined && !summary.tags.includes(filter.tag)) continue;
    if (filter.status !== undefined && summary.status !== filter.status) continue;
    out.push(summary);
  }
  return out;
}

/**
 * Makes sure the index lists every run: rebuilds it when it is missing or
 * older than the last change to `runs/`. False when there are no runs at all.
 */
export async function ensureFreshIndex(stateDir: string, force = false): Promise<boolean> {
  const runsStat = await stat(join(stateDir, "runs")).catch(() => undefined);
  if (runsStat === undefined) return false;
  const indexStat = await stat(join(stateDir, INDEX_FILE)).catch(() => undefined);
  if (!force && indexStat !== undefined && indexStat.mtimeMs >= runsStat.mtimeMs) return true;
  await writeIndex(stateDir, await scanRuns(stateDir));
  // Date the new index as of the scan's start: a run created during the scan
  // leaves runs/ newer than the index, so the next listing scans again.
  // (Rounded up to whole milliseconds, the precision utimes takes.)
  const asOf = new Date(Math.ceil(runsStat.mtimeMs));
  await utimes(join(stateDir, INDEX_FILE), asOf, asOf).catch(() => {});
  return true;
}

/** Index entries for every run directory, from each journal's first lines, oldest first. O(runs): only for rebuilds. */
export async function scanRuns(stateDir: string): Promise<RunIndexEntry[]> {
  const names = await readdir(join(stateDir, "runs")).catch(() => [] as string[]);
  const entries: RunIndexEntry[] = [];
  for (const id of names) {
    if (!/^[0-9A-Za-z]+$/.test(id)) continue;
    const dir = runDir(stateDir, id);
    const entry = await entryFromJournal(join(dir, "journal.jsonl"), id);
    if (entry !== undefined) entries.push(entry);
    else {
      // Being created right now (no journal yet): keep it, dated by its folder; listing skips it until it has a journal.
      const made = await stat(dir).catch(() => undefined);
      if (made !== undefined) entries.push({ id, workflow: "", tags: [], started: made.mtime.toISOString() });
    }
  }
  return entries.sort((a, b) => a.started.localeCompare(b.started) || a.id.localeCompare(b.id));
}

/** The index entry of one run from the start of its journal; undefined when there is no journal. */
async function entryFromJournal(path: string, id: string): Promise<RunIndexEntry | undefined> {
  let head: Uint8Array;
  try {
    const fh = await open(path, "r");
    try {
      // The header and run_started lines; a huge graph makes run_started long, so read on until two lines are in.
      head = new Uint8Array(0);
      for (let chunk = 64 * 1024; ; chunk *= 4) {
        const buf = new Uint8Array(chunk);
        const { bytesRead } = await fh.read(buf, 0, chunk, 0);
        head = buf.subarray(0, bytesRead);
        let newlines = 0;
        for (const b of head) if (b === 0x0a && ++newlines === 2) break;
        if (newlines >= 2 || bytesRead < chunk) break;
      }
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
  const lastNl = head.lastIndexOf(0x0a);
  const records = classifyJournal(head.subarray(0, lastNl + 1)).records;
  const started = records.find((r) => r.type === "run_started");
  if (started?.type === "run_started") return { id, workflow: started.workflow, tags: started.tags, started: started.ts };
  const header = records[0];
  // A run cut off while being created: list it (as unreadable) at the time of its header.
  return { id, workflow: "", tags: [], started: header?.ts ?? "" };
}

/**
 * Replaces the index with `entries`: written complete under a temporary name,
 * then renamed. A run created while the scan ran is caught by the next
 * listing, which finds runs/ newer than the index (see ensureFreshIndex).
 */
export async function writeIndex(stateDir: string, entries: readonly RunIndexEntry[]): Promise<void> {
  const path = join(stateDir, INDEX_FILE);
  const temp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await writeFile(temp, entries.map(indexLine).join(""), { mode: 0o600 });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** Every entry of the index, oldest first, deduplicated (the latest line for an id wins). O(runs). */
export async function readIndex(stateDir: string): Promise<RunIndexEntry[]> {
  const text = await readFile(join(stateDir, INDEX_FILE), "utf8").catch(() => "");
  const byId = new Map<string, RunIndexEntry>();
  for (const line of text.split("\n")) {
    const e = parseIndexLine(line);
    if (e !== undefined) {
      byId.delete(e.id);
      byId.set(e.id, e);
    }
  }
  return [...byId.values()];
}

