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
import { decodeLine, decodeLineBytes, hasValidCrc } from "./line.ts";
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

/** Sorts a journal's bytes into clean, torn tail or corrupt. Pure; never throws on any input. */
export function classifyJournal(bytes: Uint8Array): Classification {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const nl = bytes.indexOf(NEWLINE, offset);
    const lineNo = records.length + 1;
    if (nl === -1) {
      // The last write did not finish: no newline, whatever the bytes are.
      return tornOrCorrupt(bytes, offset, lineNo, "line has no newline", records);
    }
    const fast = decodeLineBytes(bytes, offset, nl);
    if (fast !== undefined && fast.seq === records.length && records.length > 0 && fast.type !== "header" && fast.run === records[0]?.run) {
      // The common case: an intact line in sequence. Anything else takes the path below, which names the problem.
      records.push(fast);
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
        return { kind: "corrupt", line: lineNo, offset, reason: decoded.error, records };
      }
      return tornOrCorrupt(bytes, offset, lineNo, decoded.error, records);
    }
    const problem = sequenceProblem(decoded.value, records);
    if (problem) return { kind: "corrupt", line: lineNo, offset, reason: problem, records };
    records.push(decoded.value);
    offset = nl + 1;
  }
  return { kind: "clean", records };
}

/** What is wrong with `rec` coming after `before`, if anything. */
function sequenceProblem(rec: JournalRecord, before: readonly JournalRecord[]): string | undefined {
  const first = before[0];
  if (first === undefined) {
    if (rec.type !== "header") return `first line is a "${rec.type}" line, not a header`;
    if (rec.seq !== 0) return `header has seq ${rec.seq}, expected 0`;
    return undefined;
  }
  if (rec.type === "header") return "a second header line";
  if (rec.seq !== before.length) return `seq ${rec.seq} where ${before.length} was expected`;
  if (rec.run !== first.run) return `run id "${rec.run}" differs from the header's "${first.run}"`;
  return undefined;
}

/** The bytes from `start` on are torn unless an intact record starts somewhere inside them. */
function tornOrCorrupt(
  bytes: Uint8Array,
  start: number,
  lineNo: number,
  reason: string,
  records: JournalRecord[],
): Classification {
  for (let p = indexOfBytes(bytes, RECORD_START, start + 1); p !== -1; p = indexOfBytes(bytes, RECORD_START, p + 1)) {
    const nl = bytes.indexOf(NEWLINE, p);
    const text = decodeUtf8(bytes.subarray(p, nl === -1 ? bytes.length : nl));
    if (text !== undefined && hasValidCrc(text)) {
      return { kind: "corrupt", line: lineNo, offset: start, reason: `${reason}, and intact records follow`, records };
    }
  }
  return { kind: "torn", records, goodBytes: start, tornBytes: bytes.length - start };
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
