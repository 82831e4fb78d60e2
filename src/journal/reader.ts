/**
 * Reads a journal and sorts it into clean, torn tail or corrupt (SPEC section 4).
 *
 * A torn tail is what an interrupted write leaves: bytes after the last intact
 * line, with no intact record starting anywhere inside them. A final line
 * without its newline is torn even when it parses: the newline belongs to the
 * same write, so that write did not finish. Anything else that is wrong is
 * corrupt. Reading never modifies the file; repair is openJournalForAppend's.
 */
import { readFile } from "node:fs/promises";
import { decodeLine, decodeLineBytes, exactUtf8Chunk, hasValidCrc } from "./line.ts";
import type { JournalRecord } from "./events.ts";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";
import type { FsProblem } from "../util/failure.ts";

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

/** A journal that cannot be read or is corrupt; `message` is one sentence for the user. */
export interface JournalReadError {
  readonly kind: "io" | "corrupt";
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly offset?: number;
  readonly reason: string;
  /** For `io`: the file-system problem, when the error was one. */
  readonly problem?: FsProblem;
}

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
  let count = 0;
  /** The header's run id, once the header is accepted. */
  let run: string | undefined;
  let offset = 0;
  /** Whole lines decoded at once, `bytes[chunkStart, chunkEnd)`; undefined when they are not all valid UTF-8. */
  let chunk: string | undefined;
  let chunkEnd = 0;
  /** Where the current line starts in `chunk`. */
  let at = 0;
  while (offset < bytes.length) {
    const nl = bytes.indexOf(NEWLINE, offset);
    const lineNo = count + 1;
    if (nl === -1) {
      // The last write did not finish: no newline, whatever the bytes are.
      return tornOrCorrupt(bytes, offset, lineNo, "line has no newline", count);
    }
    if (offset >= chunkEnd) {
      chunkEnd = chunkEndAfter(bytes, offset, nl);
      chunk = exactUtf8Chunk(bytes, offset, chunkEnd);
      at = 0;
    }
    let lineText: string | undefined;
    if (chunk !== undefined) {
      // UTF-8 never has a newline byte inside a character: the chunk's lines are the bytes' lines.
      const end = chunk.indexOf("\n", at);
      lineText = chunk.slice(at, end);
      at = end + 1;
    }
    const fast = decodeLineBytes(bytes, offset, nl, lineText);
    if (fast !== undefined && fast.seq === count && count > 0 && fast.type !== "header" && fast.run === run) {
      // The common case: an intact line in sequence. Anything else takes the path below, which names the problem.
      onRecord(fast, offset);
      count++;
      offset = nl + 1;
      continue;
    }
    const text = decodeUtf8(bytes.subarray(offset, nl));
    const decoded = text === undefined ? err("invalid UTF-8") : decodeLine(text);
    if (!decoded.ok) {
      // A line that fails framing (JSON, CRC) may be a torn write if nothing intact follows;
      // a line with an intact frame but a wrong version or schema was written that way: corrupt.
      const framed = text !== undefined && hasValidCrc(text);
      if (framed || decoded.error.startsWith("unknown format version")) {
        return { kind: "corrupt", lines: count, line: lineNo, offset, reason: decoded.error };
      }
      return tornOrCorrupt(bytes, offset, lineNo, decoded.error, count);
    }
    const problem = sequenceProblem(decoded.value, count, run);
    if (problem) return { kind: "corrupt", lines: count, line: lineNo, offset, reason: problem };
    if (count === 0) run = decoded.value.run;
    onRecord(decoded.value, offset);
    count++;
    offset = nl + 1;
  }
  return { kind: "clean", lines: count };
}

/** Lines are decoded about this many bytes at a time: one decoder call per line costs more than the decoding. */
const CHUNK_BYTES = 1 << 20;

/** The end of a run of whole lines from `start` (whose first line ends at `nl`): just after a newline, about CHUNK_BYTES on. */
function chunkEndAfter(bytes: Uint8Array, start: number, nl: number): number {
  const limit = Math.min(start + CHUNK_BYTES, bytes.length);
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

/** The bytes from `start` on are torn unless an intact record starts somewhere inside them. */
function tornOrCorrupt(bytes: Uint8Array, start: number, lineNo: number, reason: string, count: number): Scan {
  for (let p = indexOfBytes(bytes, RECORD_START, start + 1); p !== -1; p = indexOfBytes(bytes, RECORD_START, p + 1)) {
    const nl = bytes.indexOf(NEWLINE, p);
    const text = decodeUtf8(bytes.subarray(p, nl === -1 ? bytes.length : nl));
    if (text !== undefined && hasValidCrc(text)) {
      return { kind: "corrupt", lines: count, line: lineNo, offset: start, reason: `${reason}, and intact records follow` };
    }
  }
  return { kind: "torn", lines: count, goodBytes: start, tornBytes: bytes.length - start };
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

/** Reads and classifies a journal. Read-only: a torn tail is reported, never repaired here. */
export async function readJournal(
  path: string,
): Promise<Result<Exclude<Classification, { kind: "corrupt" }>, JournalReadError>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return err({ kind: "io", path, reason, message: `Cannot read journal "${path}": ${reason}` });
  }
  const c = classifyJournal(bytes);
  if (c.kind === "corrupt") return err(corruptError(path, c));
  return ok(c);
}

/** The one-sentence error for a corrupt journal. */
export function corruptError(path: string, c: Extract<Classification, { kind: "corrupt" }>): JournalReadError {
  return {
    kind: "corrupt",
    path,
    line: c.line,
    offset: c.offset,
    reason: c.reason,
    message: `Journal "${path}" is corrupt at line ${c.line} (byte ${c.offset}): ${c.reason}`,
  };
}
