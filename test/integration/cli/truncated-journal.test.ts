/**
 * A finished journal cut at every byte offset: `wf resume --dry-run` and
 * `wf show` answer with a consistent state or one clear sentence, never a
 * crash. In-process
 * (through the CLI's `main`) so that every offset is affordable.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { main } from "../../../src/cli/main.ts";

async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  process.stdout.write = ((chunk: unknown) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

test("wf resume --dry-run and wf show on a journal cut at every byte offset give a state or one sentence", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wf-trunc-"));
  try {
    const state = join(dir, "state");
    const file = join(dir, "t.toml");
    await writeFile(file, `[tasks.a]\ncmd = "echo v1"\nregister = "v"\n[tasks.b]\ncmd = "exit 1"\ndepends_on = ["a"]\n`);
    const first = await capture(() => main(["run", file, "--state-dir", state, "--quiet"]));
    assert.equal(first.code, 1, first.stderr);
    const id = /wf resume (\w+)/.exec(first.stdout)?.[1];
    assert.ok(id !== undefined);
    const journalPath = join(state, "runs", id, "journal.jsonl");
    const full = await readFile(journalPath);
    const seen = new Map<string, number>();
    for (let offset = 0; offset <= full.length; offset++) {
      await writeFile(journalPath, full.subarray(0, offset));
      const r = await capture(() => main(["resume", id, "--dry-run", "--state-dir", state]));
      const where = `at offset ${offset} of ${full.length}`;
      assert.ok(!r.stderr.includes("Internal error") && !r.stderr.includes("    at "), `${where}: ${r.stderr}`);
      if (r.code === 0) {
        assert.match(r.stdout, new RegExp(`^Run "${id}" of "t" \\((failed|interrupted|running)\\): \\d of 2 tasks would run(, 1 adopted)?\\n`), where);
        assert.equal(r.stderr, "");
      } else {
        assert.equal(r.code, 3, `${where}: ${r.stderr}`);
        assert.equal(r.stderr.split("\n").length, 2, `${where}: one line: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^Cannot resume run "${id}": `), where);
      }
      const show = await capture(() => main(["show", id, "--state-dir", state]));
      const oneSentence = show.code === 1 && show.stdout === "" && /^[^\n]+\n$/.test(show.stderr) && !/Internal error|    at /.test(show.stderr);
      const shown = show.code === 0 && show.stderr === "" && show.stdout.startsWith(`Run       ${id}\n`);
      assert.ok(oneSentence || shown, `wf show ${where}: exit ${show.code}\n${show.stdout}${show.stderr}`);
      const key = r.code === 0 ? r.stdout.split("\n")[0]! : r.stderr.replace(/\d+/g, "N");
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // Cuts land in every part of the journal, so several distinct answers must show up.
    assert.ok(seen.size >= 3, [...seen.keys()].join("\n"));
    if (process.env["WF_DEBUG_TRUNC"]) console.error(seen);
    assert.deepEqual(await readFile(journalPath), full, "read-only: the last write restored it, nothing else touched it");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
