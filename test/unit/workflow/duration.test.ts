import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_DURATION_MS, parseDuration, readDuration } from "../../../src/workflow/duration.ts";

test("parseDuration reads Go durations as milliseconds", () => {
  const cases: [string, number][] = [
    ["500ms", 500], ["30s", 30_000], ["5m", 300_000], ["1h30m", 5_400_000],
    ["1.5s", 1500], ["0", 0], ["0s", 0], ["2h45m30.5s", 9_930_500], ["1500us", 2], [".5s", 500],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("parseDuration rejects what Go rejects, and negatives", () => {
  for (const bad of ["", "5", "5 minutes", "-1s", "+1s", "1d", "s", "1s ", " 1s", "1.s.5"]) {
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  }
});

test("readDuration refuses a duration longer than Go can hold, and only that", () => {
  assert.deepEqual(readDuration("2562047h"), { ok: true, value: 2562047 * 3_600_000 });
  assert.deepEqual(readDuration("2562048h"), { ok: false, error: "too-long" });
  assert.deepEqual(readDuration(`${"9".repeat(400)}h`), { ok: false, error: "too-long" });
  assert.deepEqual(readDuration("5 minutes"), { ok: false, error: "invalid" });
  assert.equal(parseDuration("2562048h"), undefined);
  assert.ok(MAX_DURATION_MS >= 2 ** 31, "values above a 32-bit timer are allowed");
});
