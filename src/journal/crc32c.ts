/** CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of every journal line. */

/**
 * Slicing-by-8 tables: TABLES[k * 256 + b] is the CRC of byte b followed by k
 * zero bytes, so the main loop folds 8 bytes per step instead of 1. Reading a
 * large journal checks every byte of it; this is about 4 times faster than
 * the one-table loop.
 */
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (t[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/**
 * Continues a CRC-32C over `bytes[start, end)`. `crc` is the running value as
 * returned by a previous call (0 to begin), so a checksum can cover pieces that
 * are not adjacent in memory.
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  // Indexes below are in range by construction (a byte or a masked byte plus a table offset);
  // the non-null assertions only satisfy noUncheckedIndexedAccess without a branch per byte.
  for (const last = end - 8; i <= last; i += 8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^
      t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** crc32cUpdate over one more byte: no array and no loop, for the `}` that closes a line. */
export function crc32cByte(crc: number, byte: number): number {
  const c = ~crc;
  return ~(TABLES[(c ^ byte) & 0xff]! ^ (c >>> 8)) >>> 0;
}

/** The CRC-32C of `bytes` as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  return crc32cUpdate(0, bytes);
}

/** The CRC-32C as 8 lowercase hex digits, as written in a line's `crc` member. */
export function crc32cHex(bytes: Uint8Array): string {
  return crc32c(bytes).toString(16).padStart(8, "0");
}
