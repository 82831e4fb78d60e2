import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppendableEvent, createJournal, openJournalForAppend } from "../../../src/journal/writer.ts";
import { classifyJournal } from "../../../src/journal/reader.ts";

const RUN = "7fQ2kLx9ab";

/** The first event after the header: a run of one task. */
const STARTED: AppendableEvent = {
  type: "run_started", workflow: "t", file: "/t.toml", file_sha256: "0".repeat(64), tags: [],
  nodes: [{ id: "a", task: "a", deps: [], def_sha256: "0".repeat(64) }], mode: "sequential", max_parallel: 1,
  var_names: [], host: "h", pid: 1, wf_version: "0.1.0", runtime: "test",
};
const WRITER = "wf 0.1.0 (test)";

async function tempDir(): Promise<string> {
  return await mkdtemp(join(tmpdir(), "wf-journal-"));
}

test("createJournal() writes the header first, 0600 in a 0700 run dir, and leaves no temp file", async () => {
  const root = await tempDir();
  try {
    const runDir = join(root, "runs", RUN);
    const w = await createJournal({ runDir, runId: RUN, writer: WRITER, now: () => new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)) });
    const rec = await w.append({ type: "run_status", status: "running" });
    assert.equal(rec.seq, 1);
    assert.equal(rec.ts, "2025-01-02T03:04:05.006Z");
    await w.close();
    const text = await readFile(w.path, "utf8");
    const lines = text.split("\n");
    assert.match(lines[0] ?? "", /^\{"v":1,"seq":0,"ts":"2025-01-02T03:04:05.006Z","run":"7fQ2kLx9ab","type":"header","format":1,"writer":"wf 0.1.0 \(test\)","crc":"[0-9a-f]{8}"\}$/);
    assert.equal((await stat(w.path)).mode & 0o777, 0o600);
    assert.equal((await stat(runDir)).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(runDir), ["journal.jsonl"]);
    assert.equal(classifyJournal(await readFile(w.path)).kind, "clean");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("createJournal() refuses to overwrite an existing journal", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER });
    await w.close();
    await assert.rejects(createJournal({ runDir: root, runId: RUN, writer: WRITER }), { name: "JournalWriteError" });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("append() shares flushes between concurrent appends (group commit) and keeps seq contiguous", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER });
    const recs = await Promise.all(
      Array.from({ length: 200 }, (_, i) => w.append({ type: "var_registered", name: `v${i}`, value: String(i), task: "t" })),
    );
    assert.deepEqual(recs.map((r) => r.seq), Array.from({ length: 200 }, (_, i) => i + 1));
    assert.ok(w.syncCount <= 10, `syncCount ${w.syncCount} should be far below 200`);
    // Appends made while a flush is under way land in the next one.
    const a = w.append({ type: "run_status", status: "running" });
    await new Promise((r) => setTimeout(r, 0));
    const b = w.append({ type: "run_status", status: "success" });
    assert.deepEqual((await Promise.all([a, b])).map((r) => r.seq), [201, 202]);
    await w.close();
    const c = classifyJournal(await readFile(w.path));
    assert.equal(c.kind, "clean");
    assert.equal(c.records.length, 203);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("append() after a failed write rejects every time with JournalWriteError", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER });
    // Closing the handle underneath makes the next write fail, like an I/O error would.
    await (w as unknown as { fh: { close(): Promise<void> } }).fh.close();
    await assert.rejects(w.append({ type: "run_status", status: "running" }), { name: "JournalWriteError" });
    await assert.rejects(w.append({ type: "run_status", status: "failed" }), { name: "JournalWriteError" });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("openJournalForAppend() continues a clean journal at the next seq", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER });
    await w.append(STARTED);
    await w.append({ type: "run_status", status: "running" });
    await w.close();
    const seen: number[] = [];
    const opened = await openJournalForAppend({ path: w.path, runId: RUN, writer: WRITER, onRecord: (r) => seen.push(r.seq) });
    assert.ok(opened.ok);
    assert.equal(opened.value.lines, 3);
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(opened.value.recovered, undefined);
    assert.equal((await opened.value.writer.append({ type: "run_status", status: "resuming" })).seq, 3);
    await opened.value.writer.close();
    assert.equal(classifyJournal(await readFile(w.path)).kind, "clean");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("openJournalForAppend() saves and cuts a torn tail, then journals `recovered`", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER, now: () => new Date(1700000000000) });
    await w.append(STARTED);
    await w.append({ type: "run_status", status: "running" });
    await w.close();
    const torn = '{"v":1,"seq":2,"ts":"2025-01-0';
    await appendFile(w.path, torn);
    const opened = await openJournalForAppend({ path: w.path, runId: RUN, writer: WRITER, now: () => new Date(1700000000123) });
    assert.ok(opened.ok);
    const { writer, lines, recovered } = opened.value;
    assert.equal(lines, 3);
    assert.deepEqual(recovered, { droppedBytes: torn.length, savedTo: `${w.path}.torn-1700000000123` });
    assert.equal(await readFile(`${w.path}.torn-1700000000123`, "utf8"), torn);
    assert.equal((await stat(`${w.path}.torn-1700000000123`)).mode & 0o777, 0o600);
    await writer.close();
    const c = classifyJournal(await readFile(w.path));
    assert.equal(c.kind, "clean");
    const last = c.records.at(-1);
    assert.equal(last?.type, "recovered");
    assert.equal(last?.seq, 3);
    if (last?.type === "recovered") {
      assert.equal(last.dropped_bytes, torn.length);
      assert.equal(last.saved_to, "journal.jsonl.torn-1700000000123");
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("openJournalForAppend() refuses a corrupt journal without touching it", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER });
    await w.append({ type: "run_status", status: "running" });
    await w.append({ type: "run_status", status: "failed" });
    await w.close();
    const original = await readFile(w.path, "utf8");
    const damaged = original.replace('"running"', '"runninG"');
    await writeFile(w.path, damaged);
    const opened = await openJournalForAppend({ path: w.path, runId: RUN, writer: WRITER });
    assert.ok(!opened.ok);
    assert.deepEqual(opened.error, { kind: "corrupt", line: 2, offset: original.indexOf("\n") + 1, reason: "CRC mismatch, and intact records follow" });
    assert.equal(await readFile(w.path, "utf8"), damaged);
    const other = await openJournalForAppend({ path: join(root, "nope.jsonl"), runId: RUN, writer: WRITER });
    assert.ok(!other.ok);
    assert.deepEqual(other.error, { kind: "no-journal" });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("openJournalForAppend() never reads or writes a journal through a symbolic link, nor one whose events are out of order", async () => {
  const root = await tempDir();
  try {
    const w = await createJournal({ runDir: root, runId: RUN, writer: WRITER });
    await w.append(STARTED);
    await w.close();
    const real = join(root, "elsewhere.jsonl");
    await rename(w.path, real);
    await symlink(real, w.path);
    const linked = await openJournalForAppend({ path: w.path, runId: RUN, writer: WRITER });
    assert.ok(!linked.ok);
    assert.deepEqual(linked.error, { kind: "fs", path: w.path, problem: "symbolic-link" });
    await rm(w.path);
    // A second run_started, intact on its own: the order check refuses it in the same pass, and nothing is written.
    const again = await createJournal({ runDir: join(root, "b"), runId: RUN, writer: WRITER });
    await again.append(STARTED);
    await again.append(STARTED);
    await again.close();
    const twice = await readFile(again.path, "utf8");
    const opened = await openJournalForAppend({ path: again.path, runId: RUN, writer: WRITER });
    assert.ok(!opened.ok);
    assert.equal(opened.error.kind, "corrupt");
    assert.equal(await readFile(again.path, "utf8"), twice);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
