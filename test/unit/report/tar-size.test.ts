/**
 * Tar members of 8 GiB and more: ustar's size field holds 11 octal digits, so
 * such a size goes in a pax `size=` record, and in GNU's base-256 form in the
 * ustar field. Checked on the header alone, and with GNU tar on a sparse
 * archive (the 9 GiB of data are a hole: nothing is written).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { base256, MAX_OCTAL_SIZE, TAR_END, tarHeader, tarPadding } from "../../../src/report/tar.ts";

const ascii = (b: Uint8Array, from: number, len: number) => new TextDecoder().decode(b.subarray(from, from + len)).replace(/\0.*$/s, "");
const hasTar = spawnSync("tar", ["--version"], { encoding: "utf8" }).stdout?.startsWith("tar (GNU tar)") === true;
const NINE_GIB = 9 * 1024 ** 3;

/** The value of a base-256 field. */
function fromBase256(field: Uint8Array): number {
  assert.equal(field[0], 0x80);
  let n = 0n;
  for (const b of field.subarray(1)) n = (n << 8n) | BigInt(b);
  return Number(n);
}

test("a size up to 8 GiB less one byte stays octal in the ustar header, with no pax header", () => {
  const h = tarHeader({ name: "r/logs/a.log", size: MAX_OCTAL_SIZE });
  assert.equal(h.length, 512);
  assert.equal(ascii(h, 124, 12), "77777777777");
});

test("a 9 GiB member gets a pax size record and a base-256 size in its ustar header", () => {
  const h = tarHeader({ name: "r/logs/big.log", size: NINE_GIB, mtime: 1_700_000_000 });
  assert.equal(h.length, 3 * 512);
  assert.equal(ascii(h, 156, 1), "x");
  assert.equal(ascii(h, 512, 512), `19 size=${NINE_GIB}\n`);
  assert.equal(parseInt(ascii(h, 124, 12), 8), `19 size=${NINE_GIB}\n`.length);
  const ustar = h.subarray(1024);
  assert.equal(ascii(ustar, 0, 100), "r/logs/big.log");
  assert.equal(fromBase256(ustar.subarray(124, 136)), NINE_GIB);
  let sum = 0;
  ustar.forEach((b, i) => (sum += i >= 148 && i < 156 ? 32 : b));
  assert.equal(parseInt(ascii(ustar, 148, 8), 8), sum);
});

test("a long name and a big size share one pax header", () => {
  const name = `r/logs/${"n".repeat(150)}.log`;
  const h = tarHeader({ name, size: NINE_GIB });
  const records = ascii(h, 512, 512);
  assert.match(records, new RegExp(`path=${name}\\n`));
  assert.match(records, new RegExp(`size=${NINE_GIB}\\n`));
});

test("base256 writes the value big-endian after 0x80", () => {
  assert.deepEqual([...base256(0x0102, 4)], [0x80, 0x00, 0x01, 0x02]);
  assert.equal(fromBase256(base256(2 ** 40 + 5, 12)), 2 ** 40 + 5);
});

test("GNU tar lists a 9 GiB member of a sparse archive with its size", { skip: !hasTar }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "wf-tar-size-"));
  try {
    const path = join(dir, "big.tar");
    const header = tarHeader({ name: "r/big.log", size: NINE_GIB, mtime: 1_700_000_000 });
    const fh = await open(path, "w");
    try {
      await fh.write(header, 0, header.length, 0);
      const end = header.length + NINE_GIB + tarPadding(NINE_GIB).length;
      await fh.write(TAR_END, 0, TAR_END.length, end);
    } finally {
      await fh.close();
    }
    const r = spawnSync("tar", ["-tvf", path], { encoding: "utf8", env: { ...process.env, LC_ALL: "C", TZ: "UTC" } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, new RegExp(`^-rw------- 0/0 +${NINE_GIB} 2023-11-14 22:13 r/big\\.log\\n$`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
