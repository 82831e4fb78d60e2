/**
 * Reads a journal and sorts it into clean, torn tail or corrupt (journal-format.md, "Reading: clean, torn tail, corrupt").
 *
 * A torn tail is what an interrupted write leaves: bytes after the last intact
 * line, with no intact record starting anywhere inside them. A final line
 * without its newline is torn even when it parses: the newline belongs to the
 * same write, so that write did not finish. Anything else that is wrong is
 * corrupt. Reading never modifies the file; repair is openJournalForAppend's.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { decodeLine, decodeLineBytes, exactUtf8Chunk, hasValidCrc } from "./line.ts";
import type { JournalRecord } from "./events.ts";
import { err } from "../util/result.ts";

export type Classification =
  | { readonly kind: "clean"; readonly records: JournalRecord[] }
  | {
      readonly kind: "torn";
      readonly records: JournalRecord[];
      /** Length of the intact prefix: where the file is cut on repair. */
      readonly goodBytes: number;
      readonly tornBytes: number;
    }
  | {
      readonly kind: "corrupt";
      /** 1-based line number of the first bad line. */
      readonly line: number;
      /** 0-based byte offset where that line starts. */
      readonly offset: number;
      readonly reason: string;
      /** The intact records before the bad line. */
      readonly records: JournalRecord[];
    };


const NEWLINE = 0x0a;
/** Every line this format writes starts with these bytes. */
const RECORD_START = new TextEncoder().encode('{"v":');
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * What classification found, without the records: how many intact lines it
 * accepted and, for a torn tail or a corrupt line, where. `lines` counts the
 * records before the problem.
 */
export type Scan =
  | { readonly kind: "clean"; readonly lines: number }
  | { readonly kind: "torn"; readonly lines: number; readonly goodBytes: number; readonly tornBytes: number }
  | { readonly kind: "corrupt"; readonly lines: number; readonly line: number; readonly offset: number; readonly reason: string };

/** Called with each intact record as classification accepts it, in order, with the byte offset of its line. */
export type RecordSink = (record: JournalRecord, offset: number) => void;

/** Sorts a journal's bytes into clean, torn tail or corrupt. Pure; never throws on any input. */
export function classifyJournal(bytes: Uint8Array): Classification {
  const records: JournalRecord[] = [];
  return withRecords(scanJournal(bytes, (r) => records.push(r)), records);
}

/** A Scan with the records its sink collected. */
export function withRecords(scan: Scan, records: JournalRecord[]): Classification {
  switch (scan.kind) {
    case "clean":
      return { kind: "clean", records };
    case "torn":
      return { kind: "torn", records, goodBytes: scan.goodBytes, tornBytes: scan.tornBytes };
    case "corrupt":
      return { kind: "corrupt", line: scan.line, offset: scan.offset, reason: scan.reason, records };
  }
}

/**
 * classifyJournal one record at a time: each intact record goes to `onRecord`
 * as soon as it is accepted, and none is kept here, so a reader that needs
 * only a fold of the journal never holds all of it. Pure apart from the sink;
 * never throws on any input.
 */
export function scanJournal(bytes: Uint8Array, onRecord: RecordSink): Scan {
  const scan = new JournalScan(onRecord);
  return scan.finish(bytes.subarray(scan.push(bytes, 0, bytes.length)));
}

/**
 * scanJournal fed a journal piece by piece, so that a reader never holds the
 * whole file: push() every run of bytes in file order, each starting where
 * the last one was left, then finish() with the bytes not taken (to the end
 * of the file). The answers are scanJournal's on the whole file.
 *
 *   push(bytes) ──> takes whole lines; leaves a partial line, or stops at a problem
 *                   └─ verdict set (corrupt): stop pushing, that is the answer
 *   finish(rest) ─> rest: from the first byte not taken to the end of the file;
 *                   a problem found by push that only the rest can decide
 *                   (a torn tail, or corrupt if intact records follow) is decided here
 */
export class JournalScan {
  readonly #onRecord: RecordSink;
  #count = 0;
  /** The header's run id, once the header is accepted. */
  #run: string | undefined;
  /** File offset of the next line to take. */
  #offset = 0;
  #verdict: Scan | undefined;
  /** A line that failed its frame: torn if nothing intact follows it, which only the rest of the file tells. */
  #suspect: { readonly line: number; readonly reason: string } | undefined;

  constructor(onRecord: RecordSink) {
    this.#onRecord = onRecord;
  }

  /** The answer, once push() has found it (a corrupt line); finish() gives it otherwise. */
  get verdict(): Scan | undefined {
    return this.#verdict;
  }

  /** push() takes no more lines: the verdict is known, or only the rest of the file (finish) can give it. */
  get stopped(): boolean {
    return this.#verdict !== undefined || this.#suspect !== undefined;
  }

  /**
   * Takes the whole lines of `bytes[start, end)`, whose first byte is the
   * first one not taken yet, and returns where it stopped: after the last
   * newline, or at the start of a line it could not take.
   */
  push(bytes: Uint8Array, start: number, end: number): number {
    if (this.stopped) return start;
    const onRecord = this.#onRecord;
    /** File offset minus position in `bytes`. */
    const base = this.#offset - start;
    let count = this.#count;
    let p = start;
    /** Whole lines decoded at once, `bytes[p, chunkEnd)`; undefined when they are not all valid UTF-8. */
    let chunk: string | undefined;
    let chunkEnd = p;
    /** The chunk is ASCII (one byte per character): its lines end where its newline characters are. */
    let ascii = false;
    /** Where the current line starts in `chunk`. */
    let at = 0;
    while (p < end) {
      let nl: number;
      let lineText: string | undefined;
      if (ascii && p < chunkEnd) {
        const lineEnd = chunk!.indexOf("\n", at);
        nl = p + (lineEnd - at);
        lineText = chunk!.slice(at, lineEnd);
        at = lineEnd + 1;
      } else {
        nl = bytes.indexOf(NEWLINE, p);
        // No newline (yet): the rest of the file says whether it is a torn write.
        if (nl === -1 || nl >= end) break;
        if (p >= chunkEnd) {
          chunkEnd = chunkEndAfter(bytes, p, nl, end);
          chunk = exactUtf8Chunk(bytes, p, chunkEnd);
          ascii = chunk !== undefined && chunk.length === chunkEnd - p;
          at = 0;
        }
        if (chunk !== undefined) {
          // UTF-8 never has a newline byte inside a character: the chunk's lines are the bytes' lines.
          const lineEnd = chunk.indexOf("\n", at);
          lineText = chunk.slice(at, lineEnd);
          at = lineEnd + 1;
        }
      }
      const fast = decodeLineBytes(bytes, p, nl, lineText);
      if (fast !== undefined && fast.seq === count && count > 0 && fast.type !== "header" && fast.run === this.#run) {
        // The common case: an intact line in sequence. Anything else takes the path below, which names the problem.
        onRecord(fast, base + p);
        count++;
        p = nl + 1;
        continue;
      }
      const lineNo = count + 1;
      const offset = base + p;
      const text = decodeUtf8(bytes.subarray(p, nl));
      const decoded = text === undefined ? err("invalid UTF-8") : decodeLine(text);
      if (!decoded.ok) {
        // A line that fails framing (JSON, CRC) may be a torn write if nothing intact follows;
        // a line with an intact frame but a wrong version or schema was written that way: corrupt.
        const framed = text !== undefined && hasValidCrc(text);
        if (framed || decoded.error.startsWith("unknown format version")) {
          this.#verdict = { kind: "corrupt", lines: count, line: lineNo, offset, reason: decoded.error };
        } else {
          this.#suspect = { line: lineNo, reason: decoded.error };
        }
        break;
      }
      const problem = sequenceProblem(decoded.value, count, this.#run);
      if (problem) {
        this.#verdict = { kind: "corrupt", lines: count, line: lineNo, offset, reason: problem };
        break;
      }
      if (count === 0) this.#run = decoded.value.run;
      onRecord(decoded.value, offset);
      count++;
      p = nl + 1;
    }
    this.#count = count;
    this.#offset = base + p;
    return p;
  }

  /** The answer, given the bytes from the first one not taken to the end of the file. */
  finish(rest: Uint8Array): Scan {
    if (this.#verdict !== undefined) return this.#verdict;
    const count = this.#count;
    if (this.#suspect !== undefined) return tornOrCorrupt(rest, this.#offset, this.#suspect.line, this.#suspect.reason, count);
    if (rest.length === 0) return { kind: "clean", lines: count };
    // The last write did not finish: no newline, whatever the bytes are.
    return tornOrCorrupt(rest, this.#offset, count + 1, "line has no newline", count);
  }
}

/** Lines are decoded about this many bytes at a time: one decoder call per line costs more than the decoding. */
const CHUNK_BYTES = 1 << 20;

/** The end of a run of whole lines from `start` (whose first line ends at `nl`) before `end`: just after a newline, about CHUNK_BYTES on. */
function chunkEndAfter(bytes: Uint8Array, start: number, nl: number, end: number): number {
  const limit = Math.min(start + CHUNK_BYTES, end);
  return Math.max(nl, bytes.lastIndexOf(NEWLINE, limit - 1)) + 1;
}

/** What is wrong with `rec` coming after `count` records of run `run` (the header's), if anything. */
function sequenceProblem(rec: JournalRecord, count: number, run: string | undefined): string | undefined {
  if (count === 0) {
    if (rec.type !== "header") return `first line is a "${rec.type}" line, not a header`;
    if (rec.seq !== 0) return `header has seq ${rec.seq}, expected 0`;
    return undefined;
  }
  if (rec.type === "header") return "a second header line";
  if (rec.seq !== count) return `seq ${rec.seq} where ${count} was expected`;
  if (rec.run !== run) return `run id "${rec.run}" differs from the header's "${run}"`;
  return undefined;
}

/** `rest`, the end of the file from byte `start` on, is torn unless an intact record starts somewhere inside it. */
function tornOrCorrupt(rest: Uint8Array, start: number, lineNo: number, reason: string, count: number): Scan {
  for (let p = indexOfBytes(rest, RECORD_START, 1); p !== -1; p = indexOfBytes(rest, RECORD_START, p + 1)) {
    const nl = rest.indexOf(NEWLINE, p);
    const text = decodeUtf8(rest.subarray(p, nl === -1 ? rest.length : nl));
    if (text !== undefined && hasValidCrc(text)) {
      return { kind: "corrupt", lines: count, line: lineNo, offset: start, reason: `${reason}, and intact records follow` };
    }
  }
  return { kind: "torn", lines: count, goodBytes: start, tornBytes: rest.length };
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = haystack.indexOf(first ?? 0, from); i !== -1; i = haystack.indexOf(first ?? 0, i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A journal file is read this many bytes at a time. */
const READ_BYTES = 4 << 20;
/** Room before each read for the partial line the previous one ended with; a longer line is copied out. */
const CARRY_BYTES = 256 << 10;

/**
 * scanJournal of the file at `path`, read READ_BYTES at a time instead of
 * whole: memory does not grow with the journal, and the next piece is read
 * while one is scanned. Reads to the end of the file whatever the verdict,
 * so that an error reading any of it is thrown as reading it whole would.
 * Never through a symbolic link planted in the journal's place (ELOOP).
 * Throws what the file system throws (open.ts makes it a failure). `sizes`
 * are for tests.
 */
export async function scanJournalFile(path: string, onRecord: RecordSink, sizes = { read: READ_BYTES, carry: CARRY_BYTES }): Promise<Scan> {
  const { read: readBytes, carry: carryBytes } = sizes;
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let reading: Promise<unknown> | undefined;
  try {
    const scan = new JournalScan(onRecord);
    let current = new Uint8Array(carryBytes + readBytes);
    let other = new Uint8Array(carryBytes + readBytes);
    /** The bytes not taken yet: a partial line, a view of the previous piece. */
    let carried: Uint8Array = new Uint8Array(0);
    /** Once the scan stopped at a line only the rest of the file decides: everything from that line on. */
    const rest: Uint8Array[] = [];
    let next = file.read(current, carryBytes, readBytes, null);
    for (;;) {
      reading = next;
      const { bytesRead } = await next;
      reading = undefined;
      if (bytesRead === 0) break;
      const end = carryBytes + bytesRead;
      let piece: Uint8Array;
      let start: number;
      if (carried.length <= carryBytes) {
        start = carryBytes - carried.length;
        current.set(carried, start);
        piece = current.subarray(0, end);
      } else {
        start = 0;
        piece = new Uint8Array(carried.length + bytesRead);
        piece.set(carried);
        piece.set(current.subarray(carryBytes, end), carried.length);
      }
      // `carried` is copied: the other buffer is free for the next read, which runs while this piece is scanned.
      next = file.read(other, carryBytes, readBytes, null);
      reading = next;
      if (scan.stopped) {
        if (scan.verdict === undefined) rest.push(piece.slice(start));
        carried = new Uint8Array(0);
      } else {
        const used = scan.push(piece, start, piece.length);
        carried = piece.subarray(used);
        if (scan.stopped) {
          if (scan.verdict === undefined) rest.push(carried.slice());
          carried = new Uint8Array(0);
        }
      }
      [current, other] = [other, current];
    }
    return scan.finish(rest.length === 0 ? carried : concat(rest));
  } finally {
    // A read still under way (if scanning threw) ends before the file is closed.
    await reading?.catch(() => {});
    await file.close();
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
