/**
 * Property-based tests of reading damaged journals. Real journals are written
 * with the project's writer, then damaged at random (bit flips, inserted,
 * deleted and duplicated bytes and lines, truncation). The reader must never
 * throw, must point inside the file when it calls a journal corrupt, must keep
 * a clean prefix when it calls one torn, and must only return records that
 * validate. A few of the damaged journals then go through the real CLI.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, mkdir, cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import * as v from "valibot";
import { EnvelopeSchema, EventSchema } from "../../src/journal/events.ts";
import type { AppendableEvent } from "../../src/journal/events.ts";
import { decodeLine, decodeLineBytes } from "../../src/journal/line.ts";
import { classifyJournal } from "../../src/journal/reader.ts";
import { createJournal } from "../../src/journal/writer.ts";
import { TestRig } from "../blackbox/rig.ts";
import { CLI_RUNS, params } from "./config.ts";

const RUN_ID = "Fuzz0Run1a";
const NODES = ["fetch", "build", "tést ☃"].map((id, i, all) => ({ id, task: id, deps: all.slice(0, i), def_sha256: "0".repeat(64) }));

/** The events of a run that retried a task, failed, and was resumed to success. */
function events(): AppendableEvent[] {
  const attempt = (task: string, n: number, ok: boolean, willRetry = false): AppendableEvent[] => [
    { type: "task_started", task, attempt: n, max_attempts: 2, cmd: `make ${task}`, stdout_log: `logs/${n}.out`, stderr_log: `logs/${n}.err` },
    { type: "task_spawned", task, attempt: n, pid: 4000 + n },
    {
      type: "task_finished", task, attempt: n, state: ok ? "succeeded" : "failed", exit_code: ok ? 0 : 2, signal: null,
      timed_out: false, duration_ms: 120, will_retry: willRetry, ignored: false, ...(ok ? {} : { error: "it broke\nbadly" }),
    },
  ];
  return [
    {
      type: "run_started", workflow: "fuzz", file: "fuzz.toml", file_sha256: "1".repeat(64), tags: ["x"], nodes: NODES,
      mode: "sequential", max_parallel: 1, var_names: [], host: "h", pid: 1, wf_version: "0.1.0", runtime: "node",
    },
    { type: "run_status", status: "running" },
    ...attempt("fetch", 1, true),
    { type: "var_registered", name: "who", value: "wörld", task: "fetch" },
    ...attempt("build", 1, false, true),
    ...attempt("build", 2, false),
    { type: "task_cancelled", task: "tést ☃", reason: 'dependency "build" failed' },
    { type: "run_status", status: "failed", reason: "1 task failed" },
    { type: "run_status", status: "resuming", mode: "sequential", max_parallel: 1 },
    { type: "task_skipped", task: "fetch", reason: "it succeeded before the resume" },
    ...attempt("build", 3, true),
    ...attempt("tést ☃", 1, true),
    { type: "run_status", status: "success" },
  ];
}

let work: string;
/** The real journal's bytes, as the writer left them. */
let journal: Uint8Array;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "wf-fuzz-journal-"));
  let clock = Date.UTC(2025, 0, 1);
  const writer = await createJournal({ runDir: join(work, "source"), runId: RUN_ID, writer: "wf fuzz", now: () => new Date((clock += 1000)) });
  for (const e of events()) await writer.append(e);
  await writer.close();
  journal = new Uint8Array(await readFile(join(work, "source", "journal.jsonl")));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One kind of damage, applied to a journal's bytes. */
type Damage =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number }
  | { kind: "truncate"; at: number }
  | { kind: "dropLine"; line: number }
  | { kind: "repeatLine"; line: number }
  | { kind: "swapLines"; line: number };

// Positions are fractions of the length, so one damage fits any journal; unbiased, since
// fast-check's bias towards small values would put nearly every damage in the header.
const where = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: where, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: where,
    bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.constantFrom(...["\n", '{"v":1,', '"}', "\u00e9"].map((s) => new TextEncoder().encode(s)))),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: where, length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at: where, length: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: where }),
  fc.record({ kind: fc.constant("dropLine" as const), line: where }),
  fc.record({ kind: fc.constant("repeatLine" as const), line: where }),
  fc.record({ kind: fc.constant("swapLines" as const), line: where }),
) as fc.Arbitrary<Damage>;

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte ranges of the lines of `bytes`, newline included (a last line may lack one). */
function lineRanges(bytes: Uint8Array): [number, number][] {
  const ranges: [number, number][] = [];
  for (let start = 0; start < bytes.length; ) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl + 1;
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

function apply(bytes: Uint8Array, d: Damage): Uint8Array {
  const n = bytes.length;
  switch (d.kind) {
    case "flip": {
      if (n === 0) return bytes;
      const copy = bytes.slice();
      const at = Math.floor(d.at * n);
      copy[at] = (copy[at] ?? 0) ^ (1 << d.bit);
      return copy;
    }
    case "insert": {
      const at = Math.floor(d.at * (n + 1));
      return concat(bytes.subarray(0, at), d.bytes, bytes.subarray(at));
    }
    case "delete": {
      const at = Math.floor(d.at * n);
      return concat(bytes.subarray(0, at), bytes.subarray(at + d.length));
    }
    case "duplicate": {
      const at = Math.floor(d.at * n);
      const piece = bytes.subarray(at, at + d.length);
      return concat(bytes.subarray(0, at + piece.length), piece, bytes.subarray(at + piece.length));
    }
    case "truncate":
      return bytes.subarray(0, Math.floor(d.at * (n + 1)));
    case "dropLine":
    case "repeatLine":
    case "swapLines": {
      const lines = lineRanges(bytes);
      const i = Math.floor(d.line * lines.length);
      const r = lines[i];
      if (r === undefined) return bytes;
      const [s, e] = r;
      if (d.kind === "dropLine") return concat(bytes.subarray(0, s), bytes.subarray(e));
      if (d.kind === "repeatLine") return concat(bytes.subarray(0, e), bytes.subarray(s, e), bytes.subarray(e));
      const next = lines[i + 1];
      if (next === undefined) return bytes;
      return concat(bytes.subarray(0, s), bytes.subarray(next[0], next[1]), bytes.subarray(s, e), bytes.subarray(next[1]));
    }
  }
}

const damaged = fc.array(damage, { minLength: 1, maxLength: 3 }).map((ds) => ({ ds, bytes: ds.reduce(apply, journal) }));

/** The record's envelope and event each pass their valibot schema. */
function validates(r: Record<string, unknown>): boolean {
  const { v: _v, seq: _seq, ts: _ts, run: _run, crc: _crc, ...event } = r;
  return v.is(EnvelopeSchema, r) && v.is(EventSchema, event);
}

describe("classifyJournal() on damaged real journals", () => {
  test("the undamaged journal is clean", () => {
    const c = classifyJournal(journal);
    assert.equal(c.kind, "clean");
    assert.equal(c.records.length, events().length + 1);
  });

  test("never throws; corrupt points inside the file, torn keeps a clean prefix, records validate", () => {
    fc.assert(
      fc.property(damaged, ({ bytes }) => {
        const c = classifyJournal(bytes);
        c.records.forEach((r, i) => {
          assert.equal(r.seq, i);
          assert.ok(validates(r as unknown as Record<string, unknown>), `record ${i} does not validate`);
        });
        if (c.kind === "corrupt") {
          const lines = lineRanges(bytes);
          assert.ok(c.line >= 1 && c.line <= lines.length, `line ${c.line} of ${lines.length}`);
          assert.equal(c.offset, lines[c.line - 1]?.[0], "the offset is where that line starts");
          assert.ok(c.offset < bytes.length);
          assert.equal(c.records.length, c.line - 1);
          assert.ok(c.reason.length > 0);
        } else if (c.kind === "torn") {
          assert.equal(c.goodBytes + c.tornBytes, bytes.length);
          assert.ok(c.tornBytes > 0);
          const prefix = classifyJournal(bytes.subarray(0, c.goodBytes));
          assert.equal(prefix.kind, "clean");
          assert.deepEqual(prefix.records, c.records);
        } else {
          assert.ok(bytes.length === 0 || bytes[bytes.length - 1] === 0x0a);
        }
      }),
      params(),
    );
  });

  test("the fast line decoder accepts a damaged line only when decodeLine() does, with the same record", () => {
    fc.assert(
      fc.property(damaged, ({ bytes }) => {
        for (const [s, e] of lineRanges(bytes)) {
          const end = bytes[e - 1] === 0x0a ? e - 1 : e;
          const fast = decodeLineBytes(bytes, s, end);
          if (fast === undefined) continue;
          const slow = decodeLine(new TextDecoder().decode(bytes.subarray(s, end)));
          assert.ok(slow.ok);
          assert.deepEqual(fast, slow.value);
        }
      }),
      params(),
    );
  });
});

describe("the CLI on damaged real journals", () => {
  /** Exit codes the CLI may give for a damaged journal: success, failure, or a run it cannot use. */
  const EXPECTED = new Set([0, 1, 3]);

  test("show, verify and resume --dry-run exit 0, 1 or 3 with at most one line on stderr", async () => {
    await using rig = await TestRig.create();
    await rig.write("fuzz.toml", '[tasks.fetch]\ncmd = "true"\n[tasks.build]\ncmd = "true"\ndepends_on = ["fetch"]\n');
    const state = rig.path("fuzz-state");
    const runDir = join(state, "runs", RUN_ID);
    await mkdir(join(runDir, "logs"), { recursive: true });
    await cp(rig.path("fuzz.toml"), join(runDir, "workflow.toml"));
    await fc.assert(
      fc.asyncProperty(damaged, async ({ bytes }) => {
        await writeFile(join(runDir, "journal.jsonl"), bytes);
        for (const args of [["show", RUN_ID], ["verify", RUN_ID], ["resume", RUN_ID, "--dry-run"]]) {
          const r = await rig.run([...args, "--state-dir", state]);
          const where = `wf ${args.join(" ")}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
          assert.ok(r.code !== null && EXPECTED.has(r.code), where);
          assert.ok(r.stderr === "" || /^[^\n]+\n$/.test(r.stderr), where);
          assert.doesNotMatch(r.stderr, /Internal error|\n\s+at /, where);
        }
      }),
      params(CLI_RUNS),
    );
  });
});
