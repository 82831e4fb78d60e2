/**
 * One journal line: the envelope, the event's fields, and a CRC-32C as the last
 * member. Pure: no I/O. See journal-format.md for the format.
 */
import * as v from "valibot";
import { crc32cByte, crc32cHex, crc32cUpdate } from "./crc32c.ts";
import { compileSchema } from "./compile-schema.ts";
import { EnvelopeSchema, EventSchema, FORMAT_VERSION } from "./events.ts";
import type { Event, JournalRecord } from "./events.ts";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";

/** What every line carries besides its event. */
export interface Envelope {
  readonly seq: number;
  readonly ts: string;
  readonly run: string;
}

const encoder = new TextEncoder();
/** `,"crc":"xxxxxxxx"}` closes every line; the CRC covers the line with that member removed. */
const CRC_SUFFIX = /,"crc":"([0-9a-f]{8})"\}$/;

/** Serialises an event as a line and returns the record as a reader will see it. */
export function encodeRecord(env: Envelope, event: Event): { line: string; record: JournalRecord } {
  // `type` goes right after the envelope, whatever the key order of `event`.
  const { type, ...fields } = event;
  const body = { v: FORMAT_VERSION, seq: env.seq, ts: env.ts, run: env.run, type, ...fields };
  const json = JSON.stringify(body);
  const crc = crc32cHex(encoder.encode(json));
  const line = `${json.slice(0, -1)},"crc":"${crc}"}\n`;
  return { line, record: { ...body, crc } as JournalRecord };
}

/** One journal line, newline included. */
export function encodeLine(env: Envelope, event: Event): string {
  return encodeRecord(env, event).line;
}

/**
 * True when `text` (one line, without its newline) ends with a `crc` member that
 * matches its bytes. Does not parse the JSON: the reader uses it to spot intact
 * records at any offset.
 */
export function hasValidCrc(text: string): boolean {
  const m = CRC_SUFFIX.exec(text);
  if (!m) return false;
  const covered = text.slice(0, m.index) + "}";
  return crc32cHex(encoder.encode(covered)) === m[1];
}

/**
 * Decodes one line (with or without its trailing newline) into a record: JSON,
 * format version, CRC, envelope and event schema, in that order. The error is a
 * short reason such as `CRC mismatch` or `unknown format version 7`.
 */
export function decodeLine(text: string): Result<JournalRecord, string> {
  const line = text.endsWith("\n") ? text.slice(0, -1) : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return err("invalid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return err("not a JSON object");
  const obj = parsed as Record<string, unknown>;
  // The version comes first: another version may frame or checksum lines differently.
  if (obj["v"] !== FORMAT_VERSION) return err(`unknown format version ${JSON.stringify(obj["v"]) ?? "(missing)"}`);
  if (!CRC_SUFFIX.test(line)) return err(`missing or misplaced "crc" member`);
  if (!hasValidCrc(line)) return err("CRC mismatch");
  const envelope = v.safeParse(EnvelopeSchema, obj);
  if (!envelope.success) return err(`invalid envelope: ${issueText(envelope.issues)}`);
  const { v: _v, seq: _seq, ts: _ts, run: _run, crc: _crc, ...event } = obj;
  const parsedEvent = v.safeParse(EventSchema, event);
  if (!parsedEvent.success) {
    const type = typeof obj["type"] === "string" ? obj["type"] : "?";
    return err(`invalid "${type}" line: ${issueText(parsedEvent.issues)}`);
  }
  return ok(obj as unknown as JournalRecord);
}

const ENVELOPE_KEYS = ["v", "seq", "ts", "run", "crc"] as const;
const envelopeOk = compileSchema(EnvelopeSchema);
/** The event schema checked on the whole line: the envelope's members are the envelope schema's. */
const eventOk = compileSchema(EventSchema, ENVELOPE_KEYS);
/** Bytes of `,"crc":"` and `"}`, the frame around the 8 hex digits that end every line. */
const CRC_OPEN = encoder.encode(',"crc":"');
const CRC_FRAME_LENGTH = CRC_OPEN.length + 8 + 2;
const CLOSE_BRACE = 0x7d;
/** Keeps a leading byte-order mark, so the text is exactly the bytes the CRC covers. */
const exactUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `bytes[start, end)` decoded as UTF-8 exactly (a byte-order mark kept), or
 * undefined when they are not valid UTF-8.
 */
export function exactUtf8Chunk(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return exactUtf8.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * The fast path of reading: the record in `bytes[start, end)` (one line without
 * its newline) when it passes every check decodeLine makes, else undefined, and
 * then decodeLine says why. The CRC is computed on the bytes as read, not on a
 * re-encoded string, and the schema is checked without building valibot's output.
 * `text`, when given, is those bytes already decoded (exactUtf8Chunk), so a
 * reader can decode many lines at once.
 */
export function decodeLineBytes(bytes: Uint8Array, start: number, end: number, text?: string): JournalRecord | undefined {
  if (!hasValidCrcBytes(bytes, start, end)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? exactUtf8.decode(bytes.subarray(start, end)));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const obj = parsed as Record<string, unknown>;
  if (obj["v"] !== FORMAT_VERSION) return undefined;
  if (!envelopeOk(obj) || !eventOk(obj)) return undefined;
  return obj as unknown as JournalRecord;
}

/**
 * hasValidCrc on bytes: true when `bytes[start, end)` (one line without its
 * newline) ends with `,"crc":"xxxxxxxx"}` and the digits match the rest of it.
 */
export function hasValidCrcBytes(bytes: Uint8Array, start: number, end: number): boolean {
  const at = end - CRC_FRAME_LENGTH;
  if (at < start) return false;
  for (let i = 0; i < CRC_OPEN.length; i++) if (bytes[at + i] !== CRC_OPEN[i]) return false;
  if (bytes[end - 2] !== 0x22 || bytes[end - 1] !== 0x7d) return false;
  let written = 0;
  for (let i = at + CRC_OPEN.length; i < end - 2; i++) {
    const b = bytes[i] ?? 0;
    const digit = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1;
    if (digit === -1) return false;
    written = written * 16 + digit;
  }
  return crc32cByte(crc32cUpdate(0, bytes, start, at), CLOSE_BRACE) === written;
}

function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return "schema mismatch";
  const path = v.getDotPath(first);
  return path ? `${path}: ${first.message}` : first.message;
}
