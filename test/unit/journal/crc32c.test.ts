import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c, crc32cHex } from "../../../src/journal/crc32c.ts";

test("crc32c() matches the standard check value", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32cHex(new TextEncoder().encode("123456789")), "e3069283");
});

test("crc32c() of no bytes is 0 and hex is zero-padded", () => {
  assert.equal(crc32c(new Uint8Array()), 0);
  assert.equal(crc32cHex(new Uint8Array()), "00000000");
});
