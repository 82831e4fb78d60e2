import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Event, JournalRecord } from "../../../src/journal/events.ts";
import { checkJournal, scanCheckedJournal, verifyJournal } from "../../../src/journal/order.ts";
import { classifyJournal, scanJournal, scanJournalFile } from "../../../src/journal/reader.ts";
import { bytesOf, lines } from "./helpers.ts";

const node = (id: string) => ({ id, task: id, deps: [], def_sha256: "h" });

/** A valid run of `tasks` tasks, one attempt each: more than a 1 MiB decoding chunk at a few thousand tasks. */
function bigRun(tasks: number): Event[] {
  const ids = Array.from({ length: tasks }, (_, i) => `tâche-${i}`);
  const events: Event[] = [
    { type: "header", format: 1, writer: "wf test" },
    {
      type: "run_started", workflow: "big", file: "/big.toml", file_sha256: "f", tags: [], nodes: ids.map(node),
      mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
    },
    { type: "run_status", status: "running" },
  ];
  for (const task of ids) {
    events.push(
      { type: "task_started", task, attempt: 1, max_attempts: 1, cmd: `echo "${"x".repeat(200)}" ☃`, stdout_log: "o", stderr_log: "e" },
      { type: "task_finished", task, attempt: 1, state: "succeeded", exit_code: 0, signal: null, timed_out: false, duration_ms: 1, will_retry: false, ignored: false },
    );
  }
  events.push({ type: "run_status", status: "success" });
  return events;
}

function collect(bytes: Uint8Array) {
  const seen: { record: JournalRecord; offset: number }[] = [];
  const verdict = scanCheckedJournal(bytes, (record, offset) => seen.push({ record, offset }));
  return { verdict, seen };
}

test("scanJournal() hands over the records classifyJournal returns, with each line's offset", () => {
  const text = lines(bigRun(8000)).join("");
  const bytes = bytesOf(text);
  assert.ok(bytes.length > 3 * (1 << 20), "the journal spans several decoding chunks");
  const offsets: number[] = [];
  const records: JournalRecord[] = [];
  const scan = scanJournal(bytes, (r, offset) => {
    records.push(r);
    offsets.push(offset);
  });
  const c = classifyJournal(bytes);
  assert.equal(scan.kind, "clean");
  assert.equal(scan.lines, c.records.length);
  assert.deepEqual(records, c.records);
  let at = 0;
  offsets.forEach((o, i) => {
    assert.equal(o, at, `offset of line ${i + 1}`);
    at = bytes.indexOf(0x0a, at) + 1;
  });
});

test("invalid UTF-8 in a line past the first decoding chunk: corrupt at that line, as line by line", () => {
  const ls = lines(bigRun(8000));
  const bad = 9000;
  const before = bytesOf(ls.slice(0, bad).join("")).length;
  // A byte that is never valid UTF-8, inside the command of a task_started line.
  const line = bytesOf(ls[bad]!);
  const i = line.indexOf(0x78); // "x"
  line[i] = 0xff;
  const bytes = new Uint8Array([...bytesOf(ls.slice(0, bad).join("")), ...line, ...bytesOf(ls.slice(bad + 1).join(""))]);
  const c = classifyJournal(bytes);
  assert.equal(c.kind, "corrupt");
  if (c.kind !== "corrupt") return;
  assert.equal(c.line, bad + 1);
  assert.equal(c.offset, before);
  assert.equal(c.records.length, bad);
  assert.equal(scanJournal(bytes, () => {}).kind, "corrupt");
});

test("scanCheckedJournal() agrees with checkJournal on a clean, a torn, an out-of-order and a corrupt journal", () => {
  const base = lines();
  const outOfOrder: Event[] = [
    { type: "header", format: 1, writer: "wf" },
    { type: "run_status", status: "running" },
  ];
  const journals = [
    base.join(""),
    base.join("") + base[1]!.slice(0, 20),
    lines(outOfOrder).join(""),
    // Out of order at line 2 and, later, a line whose JSON is cut with intact records after it: the corrupt line wins.
    lines(outOfOrder).join("") + lines().slice(2, 3).join("").slice(0, 30) + "\n" + lines().slice(3).join(""),
  ];
  for (const text of journals) {
    const bytes = bytesOf(text);
    const c = checkJournal(bytes);
    const { verdict, seen } = collect(bytes);
    assert.equal(verdict.kind, c.kind);
    assert.equal(verdict.lines, c.records.length);
    if (c.kind === "corrupt" && verdict.kind === "corrupt") {
      assert.deepEqual([verdict.line, verdict.offset, verdict.reason], [c.line, c.offset, c.reason]);
    } else {
      assert.deepEqual(seen.map((s) => s.record), c.records);
    }
    assert.equal(verifyJournal(bytes).kind, c.records.length === 0 && c.kind !== "corrupt" ? "corrupt" : c.kind);
  }
});

test("scanJournalFile() gives scanJournal's answer and records for any read size, long lines, torn and corrupt tails", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wf-scan-file-"));
  try {
    const ls = lines(bigRun(40));
    const whole = ls.join("");
    const flipped = [...ls];
    flipped[30] = flipped[30]!.replace('"attempt":1', '"attempt":2');
    const invalid = bytesOf(ls.slice(0, 20).join("") + ls[20]!.replace("☃", "\u0000"));
    invalid[invalid.length - 30] = 0xff;
    const journals: Uint8Array[] = [
      bytesOf(whole),
      bytesOf(whole + ls[5]!.slice(0, 40)),
      bytesOf(whole.slice(0, -1)),
      // A cut line with intact records after it; a CRC mismatch; a seq gap; invalid UTF-8 then intact lines.
      bytesOf(ls.slice(0, 10).join("") + ls[10]!.slice(0, 50) + "\n" + ls.slice(11).join("")),
      bytesOf(flipped.join("")),
      bytesOf([...ls.slice(0, 25), ...ls.slice(26)].join("")),
      new Uint8Array([...invalid, ...bytesOf(ls.slice(21).join(""))]),
      new Uint8Array([...invalid]),
      new Uint8Array(0),
      bytesOf("\n\n"),
    ];
    // The run_started line is longer than every read and carry size here; reads of a few bytes split every line.
    const sizes = [{ read: 7, carry: 3 }, { read: 97, carry: 0 }, { read: 1000, carry: 300 }, { read: 1 << 16, carry: 1 << 12 }];
    for (const [j, bytes] of journals.entries()) {
      const path = join(dir, `j${j}.jsonl`);
      await writeFile(path, bytes);
      const expected: [JournalRecord, number][] = [];
      const scan = scanJournal(bytes, (r, offset) => expected.push([r, offset]));
      for (const size of sizes) {
        const got: [JournalRecord, number][] = [];
        assert.deepEqual(await scanJournalFile(path, (r, offset) => got.push([r, offset]), size), scan, `journal ${j}, ${JSON.stringify(size)}`);
        assert.deepEqual(got, expected, `journal ${j}, ${JSON.stringify(size)}`);
      }
      assert.deepEqual(await scanJournalFile(path, () => {}), scan);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
