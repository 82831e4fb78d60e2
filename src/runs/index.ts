/**
 * The run index, so `wf runs` costs what `--limit` asks for (listing itself is list.ts).
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
import { open, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { classifyJournal } from "../journal/reader.ts";
import { indexPath, runDir, runPaths } from "./paths.ts";


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
    // Never through a symbolic link planted in the index's place.
    const fh = await open(indexPath(stateDir), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      await fh.appendFile(indexLine(entry));
    } finally {
      await fh.close();
    }
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

/**
 * Makes sure the index lists every run: rebuilds it when it is missing or
 * older than the last change to `runs/`. False when there are no runs at all.
 */
export async function ensureFreshIndex(stateDir: string, force = false): Promise<boolean> {
  const runsStat = await stat(join(stateDir, "runs")).catch((e: { code?: string }) => {
    if (e.code === "ENOENT") return undefined; // no run yet
    throw e; // a state directory that is a file, or not ours to read: the caller names it
  });
  if (runsStat === undefined) return false;
  const indexStat = await stat(indexPath(stateDir)).catch(() => undefined);
  if (!force && indexStat !== undefined && indexStat.mtimeMs >= runsStat.mtimeMs) return true;
  await writeIndex(stateDir, await scanRuns(stateDir));
  // Date the new index as of the scan's start: a run created during the scan
  // leaves runs/ newer than the index, so the next listing scans again.
  // (Rounded up to whole milliseconds, the precision utimes takes.)
  const asOf = new Date(Math.ceil(runsStat.mtimeMs));
  await utimes(indexPath(stateDir), asOf, asOf).catch(() => {});
  return true;
}

/** Index entries for every run directory, from each journal's first lines, oldest first. O(runs): only for rebuilds. */
export async function scanRuns(stateDir: string): Promise<RunIndexEntry[]> {
  const names = await readdir(join(stateDir, "runs")).catch(() => [] as string[]);
  const entries: RunIndexEntry[] = [];
  for (const id of names) {
    if (!/^[0-9A-Za-z]+$/.test(id)) continue;
    const dir = runDir(stateDir, id);
    const entry = await entryFromJournal(runPaths(stateDir, id).journal, id);
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
  const path = indexPath(stateDir);
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
  const text = await readFile(indexPath(stateDir), "utf8").catch(() => "");
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

