import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { fallbackName, paxRecord, splitName, tarArchive, tarHeader, unsafeName } from "../../../src/report/tar.ts";

const text = (s: string) => new TextEncoder().encode(s);
const ascii = (b: Uint8Array, from: number, len: number) => new TextDecoder().decode(b.subarray(from, from + len)).replace(/\0.*$/s, "");
// The listings below are in GNU tar's `-tv` layout.
const hasTar = spawnSync("tar", ["--version"], { encoding: "utf8" }).stdout?.startsWith("tar (GNU tar)") === true;

/** Writes `entries` as t.tar in a new temporary folder, and gives `body` that folder. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "wf-tar-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function tar(dir: string, args: string[]): string {
  const r = spawnSync("tar", args, { cwd: dir, encoding: "utf8", env: { ...process.env, LC_ALL: "C.UTF-8", TZ: "UTC" } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  return r.stdout;
}

describe("tar writer", () => {
  test("a header holds name, mode, size, type, magic and a checksum that sums the block", () => {
    const h = tarHeader({ name: "run/journal.jsonl", data: text("hello\n"), mtime: 1_700_000_000 });
    assert.equal(h.length, 512);
    assert.equal(ascii(h, 0, 100), "run/journal.jsonl");
    assert.equal(ascii(h, 100, 8), "0000600");
    assert.equal(ascii(h, 124, 12), "00000000006");
    assert.equal(ascii(h, 136, 12), (1_700_000_000).toString(8).padStart(11, "0"));
    assert.equal(ascii(h, 156, 1), "0");
    assert.equal(ascii(h, 257, 6), "ustar");
    let sum = 0;
    h.forEach((b, i) => (sum += i >= 148 && i < 156 ? 32 : b));
    assert.equal(parseInt(ascii(h, 148, 8), 8), sum);
  });

  test("a directory has type 5, size 0 and mode 0700", () => {
    const h = tarHeader({ name: "run/logs/" });
    assert.equal(ascii(h, 156, 1), "5");
    assert.equal(ascii(h, 100, 8), "0000700");
    assert.equal(ascii(h, 124, 12), "00000000000");
  });

  test("an archive pads data to 512 bytes and ends with two zero blocks", () => {
    const tar = tarArchive([{ name: "a/" }, { name: "a/x", data: text("x".repeat(513)) }, { name: "a/empty", data: new Uint8Array(0) }]);
    assert.equal(tar.length, 512 + 512 + 1024 + 512 + 1024);
    assert.ok(tar.subarray(tar.length - 1024).every((b) => b === 0));
  });

  test("long names go through the prefix field, split at a slash", () => {
    const long = `${"d".repeat(120)}/${"f".repeat(90)}`;
    assert.deepEqual(splitName(long), { prefix: "d".repeat(120), name: "f".repeat(90) });
    assert.equal(splitName("x".repeat(101)), undefined);
  });

  test("tar(1) lists and extracts what it wrote", { skip: !hasTar }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "wf-tar-"));
    try {
      const body = text("line 1\nline 2 é\n");
      await writeFile(join(dir, "t.tar"), tarArchive([
        { name: "r1/", mtime: 1_700_000_000 },
        { name: "r1/logs/", mtime: 1_700_000_000 },
        { name: "r1/logs/build.1.stdout.log", data: body, mtime: 1_700_000_000 },
      ]));
      const list = spawnSync("tar", ["-tf", "t.tar"], { cwd: dir, encoding: "utf8" });
      assert.equal(list.status, 0, list.stderr);
      assert.deepEqual(list.stdout.trim().split("\n"), ["r1/", "r1/logs/", "r1/logs/build.1.stdout.log"]);
      const x = spawnSync("tar", ["-xf", "t.tar"], { cwd: dir, encoding: "utf8" });
      assert.equal(x.status, 0, x.stderr);
      assert.deepEqual(new Uint8Array(await readFile(join(dir, "r1/logs/build.1.stdout.log"))), body);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  test("a pax record counts its own length digits", () => {
    assert.equal(paxRecord("path", "a"), "9 path=a\n");
    // " path=" + 90 + "\n" is 97 bytes, 99 with two digits; one more byte needs three digits.
    assert.equal(paxRecord("path", "x".repeat(90)), `99 path=${"x".repeat(90)}\n`);
    assert.equal(paxRecord("path", "x".repeat(91)), `101 path=${"x".repeat(91)}\n`);
    const utf8 = paxRecord("path", "é");
    assert.equal(new TextEncoder().encode(utf8).length, parseInt(utf8, 10));
  });

  test("a name that fits ustar gets one header and no pax header", () => {
    const long = `${"d".repeat(120)}/${"f".repeat(90)}`;
    const h = tarHeader({ name: long });
    assert.equal(h.length, 512);
    assert.equal(ascii(h, 156, 1), "0");
    assert.equal(ascii(h, 345, 155), "d".repeat(120));
  });

  test("a name too long for ustar gets a pax header with its path, then a ustar header with a cut name", () => {
    const name = `r1/logs/t[v=${"v".repeat(200)}].1.stdout.log`;
    const h = tarHeader({ name, data: text("x"), mtime: 1_700_000_000 });
    assert.equal(h.length, 512 * 3);
    assert.equal(ascii(h, 156, 1), "x");
    assert.equal(ascii(h, 0, 100), "r1/PaxHeaders/t[v=" + "v".repeat(82));
    const recordsLength = parseInt(ascii(h, 124, 12), 8);
    assert.equal(ascii(h, 512, recordsLength), `${recordsLength} path=${name}\n`);
    const ustar = h.subarray(1024);
    assert.equal(ascii(ustar, 156, 1), "0");
    assert.equal(ascii(ustar, 0, 100), name.slice(0, 100));
    assert.equal(ascii(ustar, 124, 12), "00000000001");
  });

  test("names that could escape the archive root are refused", () => {
    for (const name of ["/etc/passwd", "../x", "r1/../../x", "r1/..", "r1/./x", "r1//x", "", "a\0b"]) {
      assert.notEqual(unsafeName(name), undefined, name);
      assert.throws(() => tarHeader({ name }), /^Error: Internal error: tar entry name ".*" is unsafe: /s, name);
    }
    for (const name of ["r1/", "r1/..x", "r1/x..", "r1/...", "r1/logs/t[v=.._.._etc].1.stdout.log"]) assert.equal(unsafeName(name), undefined, name);
  });

  test("the cut name beside a pax path never ends in a . or .. segment", () => {
    assert.equal(fallbackName(`${"a".repeat(98)}/...x`), `${"a".repeat(98)}/_`);
    assert.equal(fallbackName(`${"a".repeat(97)}/...x`), `${"a".repeat(97)}/_`);
    assert.equal(fallbackName(`${"a".repeat(96)}/...x`), `${"a".repeat(96)}/...`);
    assert.equal(fallbackName(`${"a".repeat(99)}/${"b".repeat(120)}/`), `${"a".repeat(99)}/`);
    assert.equal(fallbackName(`${"é".repeat(60)}`), "é".repeat(50));
  });

  test("tar(1) lists and extracts long names, pax and ustar alike, byte for byte", { skip: !hasTar }, async () => {
    await inTempDir(async (dir) => {
      const long = `t[v=${"v".repeat(200)}]`;
      const unicode = `u[v=${"é".repeat(110)}]`;
      const entries = [
        { name: "r1/", mtime: 1_700_000_000 },
        { name: "r1/logs/", mtime: 1_700_000_000 },
        { name: `r1/logs/${long}.1.stdout.log`, data: text(`${"v".repeat(200)}\n`), mtime: 1_700_000_000 },
        { name: `r1/logs/${long}.1.stderr.log`, data: new Uint8Array(0), mtime: 1_700_000_000 },
        { name: `r1/logs/${unicode}.1.stdout.log`, data: text("é\n".repeat(400)), mtime: 1_700_000_000 },
        { name: `r1/${"d".repeat(150)}/`, mtime: 1_700_000_000 },
        { name: `r1/${"d".repeat(150)}/${"f".repeat(150)}`, data: text("deep\n"), mtime: 1_700_000_000 },
        { name: "r1/run.json", data: text("{}\n"), mtime: 1_700_000_000 },
      ];
      await writeFile(join(dir, "t.tar"), tarArchive(entries));
      assert.deepEqual(tar(dir, ["-tf", "t.tar"]).split("\n").slice(0, -1), entries.map((e) => e.name));
      const verbose = tar(dir, ["-tvf", "t.tar"]).split("\n").slice(0, -1);
      assert.equal(verbose.length, entries.length);
      verbose.forEach((line, i) => {
        const e = entries[i]!;
        const dirEntry = e.name.endsWith("/");
        const size = dirEntry ? 0 : (e.data?.length ?? 0);
        assert.match(line, new RegExp(`^${dirEntry ? "drwx------" : "-rw-------"} 0/0 +${size} 2023-11-14 22:13 `));
        assert.ok(line.endsWith(` ${e.name}`), line);
      });
      await mkdir(join(dir, "out"));
      tar(dir, ["-xf", "t.tar", "-C", "out"]);
      assert.deepEqual(await readdir(join(dir, "out")), ["r1"]);
      for (const e of entries) {
        if (e.name.endsWith("/")) assert.ok((await readdir(join(dir, "out", e.name))).length > 0, e.name);
        else assert.deepEqual(new Uint8Array(await readFile(join(dir, "out", e.name))), e.data, e.name);
      }
      assert.deepEqual((await readdir(join(dir, "out", "r1", "logs"))).sort(), [`${long}.1.stderr.log`, `${long}.1.stdout.log`, `${unicode}.1.stdout.log`]);
    });
  });
});
