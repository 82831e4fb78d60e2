/**
 * A minimal ustar writer (POSIX.1-1988): regular files and directories, names
 * up to 255 bytes through the prefix field. Enough for `wf export --format tar`,
 * and readable by GNU tar, bsdtar and Python's tarfile.
 */
const encoder = new TextEncoder();
const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, `/`-separated; a directory ends with `/`. */
  readonly name: string;
  readonly data?: Uint8Array;
  /** Permission bits; 0o600 for files and 0o700 for directories by default. */
  readonly mode?: number;
  /** Modification time, seconds since the epoch. */
  readonly mtime?: number;
}

function octal(n: number, width: number): string {
  // width - 1 digits and a NUL, as ustar readers expect.
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** Splits a long name into ustar's prefix (155) and name (100) at a `/`; undefined if it cannot fit. */
export function splitName(name: string): { prefix: string; name: string } | undefined {
  const bytes = encoder.encode(name);
  if (bytes.length <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(rest).length <= 100 && rest !== "") return { prefix, name: rest };
  }
  return undefined;
}

/** One 512-byte header block. */
export function tarHeader(entry: TarEntry): Uint8Array {
  const dir = entry.name.endsWith("/");
  const split = splitName(entry.name);
  if (split === undefined) throw new Error(`Internal error: tar entry name too long: ${entry.name}`);
  const h = new Uint8Array(BLOCK);
  const put = (text: string, offset: number, max: number) => h.set(encoder.encode(text).subarray(0, max), offset);
  put(split.name, 0, 100);
  put(octal(entry.mode ?? (dir ? 0o700 : 0o600), 8), 100, 8);
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(dir ? 0 : (entry.data?.length ?? 0), 12), 124, 12);
  put(octal(Math.floor(entry.mtime ?? 0), 12), 136, 12);
  put("        ", 148, 8); // checksum field counts as spaces while summing
  put(dir ? "5" : "0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put(split.prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/** The whole archive: each entry's header and data padded to 512 bytes, then two zero blocks. */
export function tarArchive(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const e of entries) {
    const header = tarHeader(e);
    parts.push(header);
    size += BLOCK;
    if (!e.name.endsWith("/") && e.data !== undefined && e.data.length > 0) {
      const padded = Math.ceil(e.data.length / BLOCK) * BLOCK;
      const body = new Uint8Array(padded);
      body.set(e.data);
      parts.push(body);
      size += padded;
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
