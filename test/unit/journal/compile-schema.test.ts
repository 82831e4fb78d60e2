import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { compileSchema } from "../../../src/journal/compile-schema.ts";
import { EnvelopeSchema, EventSchema } from "../../../src/journal/events.ts";

test("compileSchema() agrees with valibot on the journal's schemas", () => {
  const event = compileSchema(EventSchema);
  const envelope = compileSchema(EnvelopeSchema);
  const cases: unknown[] = [
    { type: "task_skipped", task: "t", reason: "r" },
    { type: "task_skipped", task: "t" },
    { type: "task_skipped", task: "t", reason: "r", extra: 1 },
    { type: "task_skipped", task: 1, reason: "r" },
    { type: "nope" },
    { type: "run_status", status: "running" },
    { type: "run_status", status: "running", mode: "sequential", max_parallel: 2 },
    { type: "run_status", status: "running", max_parallel: 0 },
    { type: "run_status", status: "walking" },
    { type: "task_finished", task: "t", attempt: 1, state: "failed", exit_code: null, signal: null, timed_out: false, duration_ms: 5, will_retry: false, ignored: false },
    { type: "task_finished", task: "t", attempt: 1.5, state: "failed", exit_code: null, signal: null, timed_out: false, duration_ms: 5, will_retry: false, ignored: false },
    { type: "task_finished", task: "t", attempt: 1, state: "failed", exit_code: null, signal: null, timed_out: false, duration_ms: -1, will_retry: false, ignored: false },
    { type: "header", format: 1, writer: "wf" },
    { type: "header", format: 2, writer: "wf" },
    [],
    null,
    "header",
    { v: 1, seq: 0, ts: "2025-01-01T00:00:00.000Z", run: "r", type: "header", crc: "0123abcd" },
    { v: 1, seq: 0, ts: "2025-01-01", run: "r", type: "header", crc: "0123abcd" },
    { v: 1, seq: 0, ts: "2025-01-01T00:00:00.000Z", run: "r", type: "header", crc: "0123ABCD" },
  ];
  for (const c of cases) {
    assert.equal(event(c), v.is(EventSchema, c), JSON.stringify(c));
    assert.equal(envelope(c), v.is(EnvelopeSchema, c), JSON.stringify(c));
  }
});

test("compileSchema() ignores the keys it is told to, in strict objects only", () => {
  const strict = compileSchema(v.strictObject({ a: v.string() }), ["seq"]);
  assert.equal(strict({ a: "x", seq: 1 }), true);
  assert.equal(strict({ a: "x", other: 1 }), false);
});

test("compileSchema() answers false for what it does not know, leaving it to valibot", () => {
  const check = compileSchema(v.pipe(v.string(), v.email()));
  assert.equal(check("a@example.com"), false);
});

test("compileSchema() agrees with valibot on strict objects whatever the key order, missing, extra or inherited keys", () => {
  const check = compileSchema(EventSchema);
  const base: Record<string, unknown>[] = [
    { type: "task_skipped", task: "a", reason: "b" },
    { type: "run_status", status: "resuming", mode: "parallel", max_parallel: 2 },
    { type: "task_spawned", task: "a", attempt: 1, pid: 7 },
  ];
  const variants: unknown[] = [];
  for (const b of base) {
    variants.push(b, Object.fromEntries(Object.entries(b).reverse()), { ...b, extra: 1 }, { ...b, reason: undefined }, { ...b, mode: undefined });
    for (const k of Object.keys(b)) {
      const { [k]: _dropped, ...without } = b;
      variants.push(without, { ...b, [k]: undefined }, { ...b, [k]: null }, { extra: 1, ...without });
      // Read through the prototype by valibot (`in`), and met by a for-in loop as well.
      variants.push(Object.assign(Object.create({ [k]: b[k] }), without));
    }
  }
  // Twice, so that each is also checked right after objects that list their keys in another order.
  for (const x of [...variants, ...variants]) assert.equal(check(x), v.is(EventSchema, x), JSON.stringify(x));
});

test("compileSchema() agrees with valibot on numbers and strings with checks, as one closure or a chain", () => {
  const schemas = [
    v.pipe(v.number(), v.integer(), v.minValue(1)),
    v.pipe(v.number(), v.minValue(0.5)),
    v.pipe(v.number(), v.minValue(2), v.minValue(5)),
    v.pipe(v.number(), v.integer()),
    v.pipe(v.pipe(v.number(), v.integer()), v.minValue(0)),
    v.pipe(v.string(), v.regex(/^[0-9a-f]{8}$/)),
    v.pipe(v.string(), v.isoTimestamp()),
    // Not a schema TypeScript allows: an integer check on a string.
    (v.pipe as unknown as (...items: unknown[]) => v.GenericSchema)(v.string(), v.integer()),
    v.pipe(v.string(), v.email()),
    v.pipe(v.string(), v.regex(/^a/), v.regex(/b$/)),
  ];
  const values = [0, 1, 2, 4.5, 5, 6, -1, 0.5, NaN, Infinity, -Infinity, "5", "0123abcd", "0123ABCD", "2025-01-01T00:00:00.000Z", "ab", "a", null, undefined, true, [], {}];
  for (const [i, schema] of schemas.entries()) {
    const check = compileSchema(schema);
    for (const x of values) assert.equal(check(x), v.is(schema, x), `schema ${i}, ${String(x)}`);
  }
});
