import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyJournal } from "../../../src/journal/reader.ts";
import { encodeLine } from "../../../src/journal/line.ts";
import { EVENTS, RUN, bytesOf, lines } from "./helpers.ts";

test("classifyJournal() reads a whole journal as clean", () => {
  const c = classifyJournal(bytesOf(lines().join("")));
  assert.equal(c.kind, "clean");
  assert.equal(c.records.length, EVENTS.length);
  assert.deepEqual(c.records.map((r) => r.seq), [0, 1, 2, 3, 4]);
});

test("classifyJournal() sees every truncation as clean or torn, with the intact records", () => {
  const ls = lines();
  const all = bytesOf(ls.join(""));
  const ends: number[] = [];
  let acc = 0;
  for (const l of ls) ends.push((acc += bytesOf(l).length));
  for (let cut = 0; cut <= all.length; cut++) {
    const c = classifyJournal(all.subarray(0, cut));
    const intact = ends.filter((e) => e <= cut).length;
    const boundary = cut === 0 || ends.includes(cut);
    assert.equal(c.kind, boundary ? "clean" : "torn", `cut at ${cut}`);
    assert.equal(c.records.length, intact, `cut at ${cut}`);
    if (c.kind === "torn") {
      assert.equal(c.goodBytes, intact === 0 ? 0 : ends[intact - 1]);
      assert.equal(c.goodBytes + c.tornBytes, cut);
    }
  }
});

test("classifyJournal() treats a final line without its newline as torn even if it parses", () => {
  const text = lines().join("").slice(0, -1);
  const c = classifyJournal(bytesOf(text));
  assert.equal(c.kind, "torn");
  assert.equal(c.records.length, EVENTS.length - 1);
});

test("classifyJournal() reports a flipped byte mid-file as corrupt at that line", () => {
  const ls = lines();
  const offset = bytesOf(ls.slice(0, 2).join("")).length;
  for (const delta of [5, 30, bytesOf(ls[2] ?? "").length - 1]) {
    const bytes = bytesOf(ls.join(""));
    bytes[offset + delta] = (bytes[offset + delta] ?? 0) ^ 0x01;
    const c = classifyJournal(bytes);
    assert.equal(c.kind, "corrupt", `flip at +${delta}`);
    if (c.kind !== "corrupt") continue;
    assert.equal(c.line, 3);
    assert.equal(c.offset, offset);
    assert.equal(c.records.length, 2);
  }
});

test("classifyJournal() reports a CRC mismatch before the end as corrupt", () => {
  const ls = lines();
  ls[1] = (ls[1] ?? "").replace('"running"', '"failed"');
  const c = classifyJournal(bytesOf(ls.join("")));
  assert.equal(c.kind, "corrupt");
  if (c.kind === "corrupt") assert.match(c.reason, /^CRC mismatch/);
});

test("classifyJournal() treats a garbled last line as a torn tail", () => {
  const ls = lines();
  ls[4] = "\0\0\0\0garbage\n";
  const c = classifyJournal(bytesOf(ls.join("")));
  assert.equal(c.kind, "torn");
  assert.equal(c.records.length, 4);
});

test("classifyJournal() reports a torn line followed by an intact one as corrupt", () => {
  const ls = lines();
  ls[2] = (ls[2] ?? "").slice(0, 20); // no newline: the next record is glued on
  const c = classifyJournal(bytesOf(ls.join("")));
  assert.equal(c.kind, "corrupt");
  if (c.kind === "corrupt") assert.equal(c.line, 3);
});

test("classifyJournal() reports a seq gap as corrupt", () => {
  const ls = lines();
  const gapped = [...ls.slice(0, 2), encodeLine({ seq: 3, ts: "2025-01-01T00:00:00.000Z", run: RUN }, EVENTS[2]!)];
  const c = classifyJournal(bytesOf(gapped.join("")));
  assert.equal(c.kind, "corrupt");
  if (c.kind === "corrupt") {
    assert.equal(c.line, 3);
    assert.match(c.reason, /seq 3 where 2 was expected/);
  }
});

test("classifyJournal() reports a changed run id, a missing header and an unknown version as corrupt", () => {
  const ls = lines();
  const other = lines(EVENTS, "otherrun00");
  const runChange = classifyJournal(bytesOf([...ls.slice(0, 3), other[3]].join("")));
  assert.equal(runChange.kind, "corrupt");
  const noHeader = classifyJournal(bytesOf(ls.slice(1).join("")));
  assert.equal(noHeader.kind, "corrupt");
  if (noHeader.kind === "corrupt") assert.match(noHeader.reason, /not a header/);
  // Even as the last line: a newer writer wrote it on purpose, it is not a torn write.
  const future = classifyJournal(bytesOf([...ls.slice(0, 4), (ls[4] ?? "").replace('"v":1', '"v":7')].join("")));
  assert.equal(future.kind, "corrupt");
  if (future.kind === "corrupt") assert.equal(future.reason, "unknown format version 7");
});

test("classifyJournal() never throws on arbitrary bytes", () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const base = bytesOf(lines().join(""));
  for (let i = 0; i < 300; i++) {
    const b = base.slice();
    for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const c = classifyJournal(b.subarray(0, Math.floor(rand() * b.length)));
    assert.ok(["clean", "torn", "corrupt"].includes(c.kind));
  }
});
