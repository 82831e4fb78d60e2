/**
 * Node ids (workflow/node-id.ts) and the file names made of them
 * (platform/job.ts nameSafe): every cell has its own id, every id reads back
 * to its values, and no two ids share a file name.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { nameSafe } from "../../../src/platform/job.ts";
import { formatNodeId, parseNodeId } from "../../../src/workflow/node-id.ts";

test("plain values stand as they are; a value with , = [ ] \" \\ space or control characters is a JSON string", () => {
  assert.equal(formatNodeId("t"), "t");
  assert.equal(formatNodeId("t", { os: "linux", node: "20" }), "t[os=linux,node=20]");
  assert.equal(formatNodeId("t", { lang: "日本" }), "t[lang=日本]");
  assert.equal(formatNodeId("t", { p: "a/b" }), "t[p=a/b]");
  assert.equal(formatNodeId("t", { a: "1,b=2", b: "3" }), 't[a="1,b=2",b=3]');
  assert.equal(formatNodeId("t", { a: "1", b: "2,b=3" }), 't[a=1,b="2,b=3"]');
  assert.equal(formatNodeId("t", { a: "", b: "x y", c: 'say "hi"', d: "a\\b", e: "l1\nl2", f: "]" }), 't[a="",b="x y",c="say \\"hi\\"",d="a\\\\b",e="l1\\nl2",f="]"]');
});

test("the four cells of a matrix whose values hold , = and ] have four ids", () => {
  const ids = new Set<string>();
  for (const a of ["1", "1,b=2"]) for (const b of ["2,b=3", "3"]) ids.add(formatNodeId("t", { a, b }));
  assert.equal(ids.size, 4);
});

test("parseNodeId() reads ids back, and reads depends_on entries as before (space around plain values dropped)", () => {
  assert.deepEqual(parseNodeId("build"), { task: "build", pairs: [] });
  assert.deepEqual(parseNodeId("build[]"), { task: "build", pairs: [] });
  assert.deepEqual(parseNodeId("build[os=linux]"), { task: "build", pairs: [["os", "linux"]] });
  assert.deepEqual(parseNodeId("build[ os = linux , arch=x64 ]"), { task: "build", pairs: [["os", "linux"], ["arch", "x64"]] });
  assert.deepEqual(parseNodeId('t[a="1,b=2",b=3]'), { task: "t", pairs: [["a", "1,b=2"], ["b", "3"]] });
  assert.deepEqual(parseNodeId('t[a = "x]y" , b="" ]'), { task: "t", pairs: [["a", "x]y"], ["b", ""]] });
  for (const bad of ["build[os=linux", "build]", "[os=linux]", "b[os]", 'b[a="x]', 'b[a="x"y]', "b[a=x]y]", 'b[a="\\q"]']) {
    assert.equal(parseNodeId(bad), undefined, bad);
  }
});

const value = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constantFrom("", ",", "=", "]", "[", '"', "\\", " ", "\n", "a/b", "a_b", "日本", "中国"));
const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,5}$/);
const matrix = fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, minLength: 1, maxLength: 4 });

test("property: every id reads back to the values it was made of", () => {
  fc.assert(fc.property(matrix, (pairs) => {
    assert.deepEqual(parseNodeId(formatNodeId("task-1", Object.fromEntries(pairs))), { task: "task-1", pairs });
  }), { seed: 42, numRuns: 500 });
});

test("property: two different cells of one task have different ids and different file names", () => {
  fc.assert(fc.property(fc.array(key, { minLength: 1, maxLength: 3 }).chain((keys) => {
    const ks = [...new Set(keys)];
    const cell = fc.tuple(...ks.map(() => value)).map((vs) => Object.fromEntries(ks.map((k, i) => [k, vs[i]!])));
    return fc.tuple(cell, cell);
  }), ([x, y]) => {
    fc.pre(JSON.stringify(x) !== JSON.stringify(y));
    const a = formatNodeId("t", x);
    const b = formatNodeId("t", y);
    assert.notEqual(a, b);
    assert.notEqual(nameSafe(a), nameSafe(b));
  }), { seed: 42, numRuns: 500 });
});

test("nameSafe() keeps a safe id, and gives any other a readable part and a hash", () => {
  assert.equal(nameSafe("build"), "build");
  assert.equal(nameSafe("t[os=linux,node=20]"), "t[os=linux,node=20]");
  const ja = nameSafe("t[lang=日本]");
  const zh = nameSafe("t[lang=中国]");
  assert.match(ja, /^t\[lang=__\]~[0-9a-f]{12}$/);
  assert.match(zh, /^t\[lang=__\]~[0-9a-f]{12}$/);
  assert.notEqual(ja, zh);
  assert.notEqual(nameSafe("t[p=a/b]"), nameSafe("t[p=a_b]"));
  assert.equal(nameSafe("t[p=a_b]"), "t[p=a_b]");
  assert.match(nameSafe("t[p=a/b]"), /^t\[p=a_b\]~[0-9a-f]{12}$/);
  // The example of docs/workflow-file.md and journal-format.md.
  assert.equal(nameSafe("path[p=a/b]"), "path[p=a_b]~cefca479e48c");
  // Long ids are cut, so that a log's name ("<name>.<attempt>.stdout.log") stays far below 255 bytes.
  const long = nameSafe(`t[v=${"x".repeat(300)}]`);
  assert.equal(long.length, 113);
  assert.notEqual(long, nameSafe(`t[v=${"x".repeat(301)}]`));
  assert.ok(Buffer.byteLength(nameSafe(`t[v=${"日".repeat(300)}]`)) < 120);
});
