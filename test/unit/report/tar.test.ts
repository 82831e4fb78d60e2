import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { splitName, tarArchive, tarHeader } from "../../../src/report/tar.ts";

const text = (s: string) => new TextEncoder().encode(s);
const ascii = (b: Uint8Array, from: number, len: number) => new TextDecoder().decode(b.subarray(from, from + len)).replace(/\0.*$/s, "");

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

  test("tar(1) lists and extracts what it wrote", { skip: spawnSync("tar", ["--version"]).status !== 0 }, async () => {
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
});
