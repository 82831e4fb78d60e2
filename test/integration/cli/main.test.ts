/**
 * main() with injected streams: an expected failure is one sentence and its
 * exit code; only a real bug prints "Internal error", and only --debug adds
 * its stack.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { main } from "../../../src/cli/main.ts";
import type { Io } from "../../../src/platform/io.ts";

function fakeIo(env: Record<string, string>, out?: (text: string | Uint8Array) => void): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: out ?? ((text) => void stdout.push(String(text))),
    err: (text) => void stderr.push(text),
    env,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    cwd: process.cwd(),
  };
}

test("main() renders an expected failure as one sentence with its exit code, on the streams it is given", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wf-main-"));
  try {
    const io = fakeIo({ WF_STATE_DIR: join(dir, "state") });
    assert.equal(await main(["show", "nothere"], io), 2);
    assert.deepEqual(io.stderr, [`No run matches "nothere" in "${join(dir, "state")}"\n`]);
    assert.deepEqual(io.stdout, []);
    const noHome = fakeIo({});
    assert.equal(await main(["runs"], noHome), 2);
    assert.deepEqual(noHome.stderr, ["Cannot find the state directory: HOME is not set; pass --state-dir or set WF_STATE_DIR\n"]);
    const badFlag = fakeIo({ WF_STATE_DIR: dir });
    assert.equal(await main(["runs", "--limit", "0x10"], badFlag), 2);
    assert.deepEqual(badFlag.stderr, ['Invalid --limit "0x10": expected a whole number of at least 1\n']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("main() reports a real bug as an internal error, with its stack only under --debug", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wf-main-"));
  try {
    // A writer that throws is a bug of the caller's making, not an expected failure.
    const broken = () => {
      throw new TypeError("the stream exploded");
    };
    const io = fakeIo({ WF_STATE_DIR: dir }, broken);
    assert.equal(await main(["runs"], io), 1);
    assert.deepEqual(io.stderr, ["Internal error: the stream exploded\n", "Run again with --debug for a stack trace, and please report it\n"]);
    const debug = fakeIo({ WF_STATE_DIR: dir }, broken);
    assert.equal(await main(["runs", "--debug"], debug), 1);
    assert.equal(debug.stderr[0], "Internal error: the stream exploded\n");
    assert.match(debug.stderr[1] ?? "", /^TypeError: the stream exploded\n\s+at /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
