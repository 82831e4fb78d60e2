import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeLine, decodeLineBytes, encodeLine, encodeRecord } from "../../../src/journal/line.ts";
import { crc32cHex } from "../../../src/journal/crc32c.ts";

const env = { seq: 3, ts: "2025-01-01T00:00:00.000Z", run: "abc" };

test("encodeLine() puts the envelope first and crc last, over the line without it", () => {
  const line = encodeLine(env, { task: "t", reason: "if was false", type: "task_skipped" } as never);
  assert.ok(line.endsWith("\n"));
  assert.match(line, /^\{"v":1,"seq":3,"ts":"2025-01-01T00:00:00.000Z","run":"abc","type":"task_skipped",/);
  const m = /^(.*),"crc":"([0-9a-f]{8})"\}\n$/.exec(line);
  assert.ok(m);
  assert.equal(crc32cHex(new TextEncoder().encode(m[1] + "}")), m[2]);
  assert.deepEqual(Object.keys(JSON.parse(line)).at(-1), "crc");
});

test("decodeLine() round-trips encodeRecord()", () => {
  const { line, record } = encodeRecord(env, { type: "var_registered", name: "x", value: "a\"b\n☃", task: "t" });
  const decoded = decodeLine(line);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.value, record);
  assert.ok(decodeLine(line.slice(0, -1)).ok, "the newline is optional");
});

test("decodeLine() names what is wrong", () => {
  const line = encodeLine(env, { type: "task_skipped", task: "t", reason: "r" });
  assert.deepEqual(decodeLine("{nope"), { ok: false, error: "invalid JSON" });
  assert.deepEqual(decodeLine(line.replace('"t"', '"u"')), { ok: false, error: "CRC mismatch" });
  assert.deepEqual(decodeLine(encodeLine(env, { type: "task_skipped", task: "t", reason: "r" }).replace('"v":1', '"v":7')), {
    ok: false,
    error: "unknown format version 7",
  });
  assert.deepEqual(decodeLine(line.replace(/,"crc":"[0-9a-f]{8}"/, "")), { ok: false, error: 'missing or misplaced "crc" member' });
  const bad = decodeLine(encodeLine(env, { type: "task_finished", task: "t", attempt: 1 } as never));
  assert.ok(!bad.ok);
  assert.match(bad.error, /^invalid "task_finished" line: /);
  const unknown = decodeLine(encodeLine(env, { type: "nope" } as never));
  assert.ok(!unknown.ok);
  assert.match(unknown.error, /^invalid "nope" line: /);
});

/** decodeLineBytes() on one line of text, newline excluded, inside some bytes around it. */
function fast(line: string): ReturnType<typeof decodeLineBytes> {
  const body = new TextEncoder().encode(line.replace(/\n$/, ""));
  const bytes = new Uint8Array(body.length + 6);
  bytes.set(body, 3);
  return decodeLineBytes(bytes, 3, 3 + body.length);
}

test("decodeLineBytes() accepts exactly what decodeLine() accepts, with the same record", () => {
  const { line, record } = encodeRecord(env, { type: "var_registered", name: "x", value: "a\"b\n☃", task: "t" });
  assert.deepEqual(fast(line), record);
  const skipped = encodeLine(env, { type: "task_skipped", task: "t", reason: "r" });
  const refused = [
    "{nope",
    skipped.replace('"t"', '"u"'),
    skipped.replace('"v":1', '"v":7'),
    skipped.replace(/,"crc":"[0-9a-f]{8}"/, ""),
    encodeLine(env, { type: "task_finished", task: "t", attempt: 1 } as never),
    encodeLine(env, { type: "nope" } as never),
    encodeLine(env, { type: "task_skipped", task: "t", reason: "r", extra: 1 } as never),
    encodeLine({ ...env, ts: "yesterday" }, { type: "task_skipped", task: "t", reason: "r" }),
    encodeLine({ ...env, seq: -1 }, { type: "task_skipped", task: "t", reason: "r" }),
    `\u{FEFF}${skipped}`,
  ];
  for (const l of refused) {
    assert.equal(fast(l), undefined, l);
    assert.equal(decodeLine(l).ok, false, l);
  }
});
