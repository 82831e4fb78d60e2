import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ensureFreshIndex, indexLine, linesBackwards, parseIndexLine, readIndex } from "../../../src/runs/index.ts";
import { indexPath } from "../../../src/runs/paths.ts";

async function withFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "wf-index-"));
  try {
    const path = join(dir, "index.jsonl");
    await writeFile(path, text);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function collect(path: string, chunk: number, max = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const line of linesBackwards(path, chunk)) {
    out.push(line);
    if (out.length >= max) break;
  }
  return out;
}

describe("linesBackwards()", () => {
  test("yields every line last first, whatever the chunk size, with multi-byte text cut anywhere", async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `{"id":"r${i}","workflow":"wé${"ü".repeat(i % 7)}"}`);
    await withFile(lines.map((l) => `${l}\n`).join(""), async (path) => {
      for (const chunk of [1, 2, 3, 7, 64, 100_000]) {
        assert.deepEqual(await collect(path, chunk), [...lines].reverse(), `chunk ${chunk}`);
      }
    });
  });

  test("a last line without its newline (a torn append) comes first; empty lines are skipped", async () => {
    await withFile('a\n\nb\n{"id":"tor', async (path) => {
      assert.deepEqual(await collect(path, 3), ['{"id":"tor', "b", "a"]);
    });
  });

  test("stopping early reads only the end of the file", async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join("\n") + "\n";
    await withFile(big, async (path) => {
      assert.deepEqual(await collect(path, 128, 3), ["line 19999", "line 19998", "line 19997"]);
    });
  });

  test("an empty file yields nothing", async () => {
    await withFile("", async (path) => assert.deepEqual(await collect(path, 16), []));
  });
});

describe("index lines", () => {
  test("indexLine() and parseIndexLine() round-trip", () => {
    const e = { id: "7fQ2kLx9ab", workflow: "ci", tags: ["nightly"], started: "2025-01-08T02:00:00.000Z" };
    const line = indexLine(e);
    assert.equal(line, '{"id":"7fQ2kLx9ab","workflow":"ci","tags":["nightly"],"started":"2025-01-08T02:00:00.000Z"}\n');
    assert.deepEqual(parseIndexLine(line.trim()), e);
  });

  test("parseIndexLine() skips torn, foreign and unsafe lines", () => {
    assert.equal(parseIndexLine('{"id":"7fQ2'), undefined);
    assert.equal(parseIndexLine("[1,2]"), undefined);
    assert.equal(parseIndexLine('{"id":"../etc"}'), undefined);
    assert.deepEqual(parseIndexLine('{"id":"abc"}'), { id: "abc", workflow: "", tags: [], started: "" });
  });
});

describe("ensureFreshIndex()", () => {
  test("dates the index as of its scan, so a run created during a rebuild triggers the next one; a run with no journal yet is kept", async () => {
    const state = await mkdtemp(join(tmpdir(), "wf-fresh-"));
    try {
      await mkdir(join(state, "runs", "r1"), { recursive: true }); // being created: no journal yet
      assert.equal(await ensureFreshIndex(state), true);
      const runs = await stat(join(state, "runs"));
      const index = await stat(indexPath(state));
      assert.ok(index.mtimeMs >= runs.mtimeMs && index.mtimeMs < runs.mtimeMs + 1, `${index.mtimeMs} vs ${runs.mtimeMs}`);
      assert.deepEqual((await readIndex(state)).map((e) => [e.id, e.workflow]), [["r1", ""]]);
      await new Promise((r) => setTimeout(r, 20));
      await ensureFreshIndex(state);
      assert.equal((await stat(indexPath(state))).mtimeMs, index.mtimeMs, "a fresh index is not rebuilt again");

      await new Promise((r) => setTimeout(r, 20));
      await mkdir(join(state, "runs", "r2")); // as if created while the scan ran, without an index line
      assert.equal(await ensureFreshIndex(state), true);
      assert.deepEqual((await readIndex(state)).map((e) => e.id).sort(), ["r1", "r2"]);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
