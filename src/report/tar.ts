/**
 * A minimal POSIX tar writer: regular files and directories in ustar headers,
 * with a pax extended header (typeflag `x`, a `path=` record) in front of any
 * entry whose name does not fit ustar's name (100 bytes) and prefix (155
 * bytes) fields, or whose size does not fit ustar's 11 octal digits (8 GiB
 * and more: a pax `size=` record, and the size in GNU's base-256 form in the
 * ustar field for readers that ignore pax). Enough for `wf export --format
 * tar`, which streams each file's data after its header (tarHeader,
 * tarPadding, TAR_END), and readable by GNU tar, bsdtar and Python's tarfile.
 */
const encoder = new TextEncoder();
const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, `/`-separated and relative; a directory ends with `/`. */
  readonly name: string;
  readonly data?: Uint8Array;
  /** The size of the data that follows the header when it is streamed (default: the length of `data`). */
  readonly size?: number;
  /** Permission bits; 0o600 for files and 0o700 for directories by default. */
  readonly mode?: number;
  /** Modification time, seconds since the epoch. */
  readonly mtime?: number;
}

const byteLength = (text: string): number => encoder.encode(text).length;

function octal(n: number, width: number): string {
  // width - 1 digits and a NUL, as ustar readers expect.
  const digits = n.toString(8);
  if (digits.length > width - 1) throw new Error(`Internal error: ${n} does not fit a ${width}-byte tar field`);
  return digits.padStart(width - 1, "0") + "\0";
}

/**
 * Why `name` could let an entry land outside the folder it is extracted in,
 * or undefined if it cannot: absolute paths, `.` and `..` segments, empty
 * segments and NUL bytes are refused, whatever a reader would make of them.
 */
export function unsafeName(name: string): string | undefined {
  if (name === "" || name === "/") return "it is empty";
  if (name.includes("\0")) return "it holds a NUL byte";
  if (name.startsWith("/")) return "it is absolute";
  const segments = (name.endsWith("/") ? name.slice(0, -1) : name).split("/");
  if (segments.some((s) => s === "..")) return 'it holds a ".." segment';
  if (segments.some((s) => s === "." || s === "")) return "it holds an empty or \".\" segment";
  return undefined;
}

/** Splits a long name into ustar's prefix (155) and name (100) at a `/`; undefined if it cannot fit. */
export function splitName(name: string): { prefix: string; name: string } | undefined {
  if (byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (byteLength(prefix) <= 155 && byteLength(rest) <= 100 && rest !== "") return { prefix, name: rest };
  }
  return undefined;
}

/** The longest start of `text` that is at most `max` bytes of UTF-8, cut between code points. */
function truncateUtf8(text: string, max: number): string {
  let out = "";
  let bytes = 0;
  for (const c of text) {
    const n = byteLength(c);
    if (bytes + n > max) break;
    out += c;
    bytes += n;
  }
  return out;
}

/**
 * The ustar name stored beside a pax `path` record, for readers that ignore
 * pax: the name cut to 100 bytes, with any `.`, `..` or empty segment the cut
 * could leave (`a/...x` cut to `a/..`) turned into `_`, so that it too stays
 * inside the archive root.
 */
export function fallbackName(name: string): string {
  const dir = name.endsWith("/");
  const cut = truncateUtf8(dir ? name.slice(0, -1) : name, dir ? 99 : 100);
  const safe = cut.split("/").map((s) => (s === "" || s === "." || s === ".." ? "_" : s)).join("/");
  return dir ? `${safe}/` : safe;
}

/** One pax record, `"<length> <key>=<value>\n"`, where the length counts the whole record, its own digits included. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = byteLength(body);
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return `${length}${body}`;
}

/** The largest size ustar's 12-byte field holds in octal: 11 digits, 8 GiB less one byte. */
export const MAX_OCTAL_SIZE = 0o77777777777;

/** A number in GNU tar's base-256 form: the field's first byte 0x80, then the value big-endian. */
export function base256(n: number, width: number): Uint8Array {
  const field = new Uint8Array(width);
  let rest = BigInt(n);
  for (let i = width - 1; i > 0; i--) {
    field[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (rest !== 0n) throw new Error(`Internal error: ${n} does not fit a ${width}-byte base-256 tar field`);
  field[0] = 0x80;
  return field;
}

interface Header {
  readonly name: string;
  readonly prefix: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly type: "0" | "5" | "x";
}

function headerBlock(f: Header): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (text: string, offset: number, max: number) => h.set(encoder.encode(text).subarray(0, max), offset);
  put(f.name, 0, 100);
  put(octal(f.mode, 8), 100, 8);
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  if (f.size > MAX_OCTAL_SIZE) h.set(base256(f.size, 12), 124);
  else put(octal(f.size, 12), 124, 12);
  put(octal(f.mtime, 12), 136, 12);
  put("        ", 148, 8); // checksum field counts as spaces while summing
  put(f.type, 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put(f.prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

function padded(data: Uint8Array): Uint8Array {
  const body = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  body.set(data);
  return body;
}

/**
 * The blocks that introduce one entry: a ustar header, preceded by a pax
 * extended header and its padded records when the name does not fit ustar.
 * An unsafe name is a bug in the caller and throws.
 */
export function tarHeader(entry: TarEntry): Uint8Array {
  const why = unsafeName(entry.name);
  if (why !== undefined) throw new Error(`Internal error: tar entry name "${entry.name}" is unsafe: ${why}`);
  const dir = entry.name.endsWith("/");
  const mtime = Math.max(0, Math.floor(entry.mtime ?? 0));
  const common = { mode: entry.mode ?? (dir ? 0o700 : 0o600), mtime };
  const size = dir ? 0 : (entry.size ?? entry.data?.length ?? 0);
  const type = dir ? "5" : "0";
  const split = splitName(entry.name);
  const big = size > MAX_OCTAL_SIZE;
  if (split !== undefined && !big) return headerBlock({ ...common, ...split, size, type });
  // The `x` header's own name is only informational (GNU tar writes `<dir>/PaxHeaders/<base>`);
  // it stays in the entry's top folder, where a reader that ignores pax would extract it as a file.
  const ustar = split ?? { prefix: "", name: fallbackName(entry.name) };
  const fallback = fallbackName(entry.name);
  const records = encoder.encode((split === undefined ? paxRecord("path", entry.name) : "") + (big ? paxRecord("size", String(size)) : ""));
  const segments = fallback.replace(/\/$/, "").split("/");
  const top = segments.length > 1 ? `${segments[0]}/` : "";
  const paxName = fallbackName(`${top}PaxHeaders/${segments[segments.length - 1]}`);
  const out = new Uint8Array(BLOCK + padded(records).length + BLOCK);
  out.set(headerBlock({ ...common, name: paxName, prefix: "", mode: 0o600, size: records.length, type: "x" }), 0);
  out.set(padded(records), BLOCK);
  out.set(headerBlock({ ...common, ...ustar, size, type }), out.length - BLOCK);
  return out;
}

/** The zero bytes that pad `size` bytes of an entry's data to a whole 512-byte block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks. */
export const TAR_END: Uint8Array = new Uint8Array(2 * BLOCK);

/** The whole archive: each entry's header blocks and data padded to 512 bytes, then two zero blocks. */
export function tarArchive(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const e of entries) {
    const header = tarHeader(e);
    parts.push(header);
    size += header.length;
    if (!e.name.endsWith("/") && e.data !== undefined && e.data.length > 0) {
      const body = padded(e.data);
      parts.push(body);
      size += body.length;
    }
  }
  size += 2 * BLOCK;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
