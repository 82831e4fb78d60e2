import { test } from "node:test";
import assert from "node:assert/strict";
import { decodedOffsets, SourceIndex } from "../../../src/workflow/locate.ts";

const lines = (...l: string[]) => l.join("\n") + "\n";
/** `line:col:length` of a span, for compact assertions. */
const at = (idx: SourceIndex, span: { offset: number; length: number }) => {
  const l = idx.location(span);
  return `${l.line}:${l.column}:${l.length}`;
};

const SRC = lines(
  'name = "ci" # comment with key = "value"',
  "[vars]",
  'TARGET = "x"',
  "",
  "[tasks.build]",
  'cmd = """',
  "[tasks.fake]",
  'retries = 9 # inside a string',
  '"""',
  "depends_on = [",
  '  "lint",  # first',
  '  "test",',
  "]",
  'env = { CI = "1", "X.Y" = { inner = 2 } }',
  "",
  '[tasks."odd id".matrix]',
  "os = ['linux', 'darwin']",
  "tasks.other.cmd = 'x'",
  "retry_delay = '''",
  "5s'''",
);

test("SourceIndex finds keys, values and headers", () => {
  const idx = new SourceIndex("t.toml", SRC);
  assert.equal(at(idx, idx.keySpan(["name"])), "1:1:4");
  assert.equal(at(idx, idx.valueSpan(["name"])), "1:8:4");
  assert.equal(at(idx, idx.keySpan(["vars", "TARGET"])), "3:1:6");
  assert.equal(at(idx, idx.keySpan(["tasks", "build"])), "5:1:13");
  assert.equal(at(idx, idx.valueSpan(["tasks", "build", "cmd"])), "6:7:3");
  assert.equal(idx.entry(["tasks", "fake", "retries"]), undefined, "multi-line strings are skipped");
  assert.equal(idx.header(["tasks", "fake"]), undefined);
});

test("SourceIndex records array elements across lines and comments", () => {
  const idx = new SourceIndex("t.toml", SRC);
  assert.equal(at(idx, idx.itemSpan(["tasks", "build", "depends_on"], 0)), "11:3:6");
  assert.equal(at(idx, idx.itemSpan(["tasks", "build", "depends_on"], 1)), "12:3:6");
  assert.equal(at(idx, idx.itemSpan(["tasks", "build", "depends_on"], 5)), "10:14:1", "falls back to the value");
});

test("SourceIndex handles inline tables, quoted and dotted keys", () => {
  const idx = new SourceIndex("t.toml", SRC);
  assert.equal(at(idx, idx.keySpan(["tasks", "build", "env", "CI"])), "14:9:2");
  assert.equal(at(idx, idx.valueSpan(["tasks", "build", "env", "CI"])), "14:14:3");
  assert.equal(at(idx, idx.keySpan(["tasks", "build", "env", "X.Y", "inner"])), "14:29:5");
  assert.equal(at(idx, idx.keySpan(["tasks", "odd id", "matrix"])), "16:1:23");
  assert.equal(at(idx, idx.itemSpan(["tasks", "odd id", "matrix", "os"], 1)), "17:16:8");
  assert.equal(at(idx, idx.keySpan(["tasks", "odd id", "matrix", "tasks", "other", "cmd"])), "18:1:15");
  assert.equal(at(idx, idx.valueSpan(["tasks", "odd id", "matrix", "retry_delay"])), "19:15:3");
});

test("SourceIndex falls back to the nearest enclosing key", () => {
  const idx = new SourceIndex("t.toml", SRC);
  assert.equal(at(idx, idx.keySpan(["tasks", "build", "nothing"])), "5:1:13");
  assert.equal(at(idx, idx.keySpan(["nothing"])), "1:1:1");
});

test("findInValue locates text inside a multi-line value", () => {
  const idx = new SourceIndex("t.toml", lines("[tasks.a]", 'cmd = """', "echo {{.a}}", "echo {{.a}}", '"""'));
  assert.equal(at(idx, idx.findInValue(["tasks", "a", "cmd"], "{{.a}}")), "3:6:6");
  assert.equal(at(idx, idx.findInValue(["tasks", "a", "cmd"], "{{.a}}", 1)), "4:6:6");
  assert.equal(at(idx, idx.findInValue(["tasks", "a", "cmd"], "{{.zz}}")), "2:7:3");
});

test("inString maps decoded offsets through quotes and escapes", () => {
  const idx = new SourceIndex("t.toml", lines('if = "a == \\"x\\" &&"'));
  // decoded: a == "x" &&   ; the "&&" is at decoded offset 9
  assert.equal(at(idx, idx.inString(["if"], 9, 2)), "1:18:2");
  assert.deepEqual(decodedOffsets("'ab'"), [1, 2, 3]);
  assert.deepEqual(decodedOffsets('"""\nab"""'), [4, 5, 6]);
  assert.equal(decodedOffsets("12"), undefined);
});

test("location reports 1-based line and column with length capped at the line end", () => {
  const idx = new SourceIndex("f.toml", "ab\ncdef\n");
  assert.deepEqual(idx.location({ offset: 4, length: 99 }), { file: "f.toml", line: 2, column: 2, length: 3 });
  assert.deepEqual(idx.location({ offset: 0, length: 0 }), { file: "f.toml", line: 1, column: 1, length: 1 });
});
