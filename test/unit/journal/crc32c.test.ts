import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c, crc32cByte, crc32cHex, crc32cUpdate } from "../../../src/journal/crc32c.ts";

test("crc32c() matches the standard check value", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32cHex(new TextEncoder().encode("123456789")), "e3069283");
});

test("crc32c() of no bytes is 0 and hex is zero-padded", () => {
  assert.equal(crc32c(new Uint8Array()), 0);
  assert.equal(crc32cHex(new Uint8Array()), "00000000");
});

test("crc32cUpdate() over pieces equals crc32c() of the whole, at every split", () => {
  const bytes = new TextEncoder().encode("a journal line, long enough for several 8-byte steps: ☃ é");
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.equal(crc32cUpdate(crc32cUpdate(0, bytes, 0, cut), bytes, cut), crc32c(bytes));
  }
});

test("crc32cByte() continues a CRC as crc32cUpdate() does over that one byte", () => {
  const line = new TextEncoder().encode('{"v":1,"seq":3}');
  for (const crc of [0, crc32c(line), 0xffffffff]) {
    for (let b = 0; b < 256; b++) assert.equal(crc32cByte(crc, b), crc32cUpdate(crc, new Uint8Array([b])));
  }
});
