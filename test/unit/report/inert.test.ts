/** Control characters from task data are shown escaped, and nothing else changes. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { inert, inertDeep, jsonText } from "../../../src/report/inert.ts";

describe("inert", () => {
  test("escapes C0 but tab and newline, DEL and C1; keeps the rest", () => {
    assert.equal(inert("\x1b[1A\x1b[2K✓ deploy"), "\\x1b[1A\\x1b[2K✓ deploy");
    assert.equal(inert("a\rb\x00c\x7fd\u009be"), "a\\x0db\\x00c\\x7fd\\u009be");
    assert.equal(inert("tab\there\nnext \\x1b é 日本"), "tab\there\nnext \\x1b é 日本");
  });

  test("whatever the text, the result holds no control character but tab and newline, and text without one is unchanged", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      const out = inert(s);
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(out));
      if (!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(s)) assert.equal(out, s);
    }));
  });

  test("inertDeep escapes every string, map and object keys too, and returns an unchanged value as it is", () => {
    const data = { name: "a\x1bb", list: ["x", "\x07"], map: new Map([["k\x1b", { v: "\x9b" }]]), n: 3, none: null };
    const out = inertDeep(data);
    assert.deepEqual(out, { name: "a\\x1bb", list: ["x", "\\x07"], map: new Map([["k\\x1b", { v: "\\u009b" }]]), n: 3, none: null });
    const clean = { a: ["b"], m: new Map([["c", 1]]) };
    assert.equal(inertDeep(clean), clean);
    assert.equal(data.name, "a\x1bb", "the input is not changed");
  });

  test("jsonText parses back to the same value and holds no control character at all", () => {
    assert.equal(jsonText({ a: "\x1b\x7f\u009b" }), '{"a":"\\u001b\\u007f\\u009b"}');
    fc.assert(fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (v, space) => {
      const text = jsonText(v, space);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(v)));
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(text));
    }));
  });
});
