/**
 * One journal, one answer: every command reads a run through the same path
 * (runs/open.ts), so a journal is usable by all of them or by none, and a
 * problem is phrased the same way by each, naming what the command could not do.
 */
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { encodeLine } from "../../src/journal/line.ts";
import { TestRig } from "./rig.ts";

const WORKFLOW = `[tasks.a]\ncmd = "echo a"\n[tasks.b]\ncmd = "exit 1"\ndepends_on = ["a"]\n`;

/** Each command that reads one run, and the verb it uses in "Cannot <verb> run". */
const READERS: readonly { args: (id: string) => string[]; verb: string; code: number }[] = [
  { args: (id) => ["show", id], verb: "show", code: 1 },
  { args: (id) => ["show", id, "--json"], verb: "show", code: 1 },
  { args: (id) => ["logs", id], verb: "read", code: 1 },
  { args: (id) => ["export", id], verb: "export", code: 1 },
  { args: (id) => ["diff", id, id], verb: "diff", code: 1 },
  { args: (id) => ["graph", "--run", id], verb: "graph", code: 1 },
  { args: (id) => ["resume", id, "--dry-run"], verb: "resume", code: 3 },
  { args: (id) => ["resume", id], verb: "resume", code: 3 },
];

/** The forensic commands: a damaged journal is read up to its first bad line, with a warning. */
const FORENSIC = new Set(["show", "read", "export"]);

async function failedRun(rig: TestRig): Promise<{ id: string; path: string; text: string }> {
  await rig.write("t.toml", WORKFLOW);
  const r = await rig.run(["run", "t.toml", "--quiet"]);
  assert.equal(r.code, 1, r.stderr);
  const id = await rig.lastRunId();
  const path = `${rig.stateDir}/runs/${id}/journal.jsonl`;
  return { id, path, text: await readFile(path, "utf8") };
}

describe("the read path", () => {
  test("a journal whose events are out of order is refused by every command with the same reason", async () => {
    await using rig = await TestRig.create();
    const { id, path, text } = await failedRun(rig);
    const lines = text.trimEnd().split("\n");
    // A well-framed line (valid seq and CRC) that no writer produces: a task starting after the final status.
    const extra = encodeLine(
      { seq: lines.length, ts: new Date().toISOString(), run: id },
      { type: "task_started", task: "a", attempt: 9, max_attempts: 1, cmd: "echo a", stdout_log: "logs/a.9.stdout.log", stderr_log: "logs/a.9.stderr.log" },
    );
    await writeFile(path, text + extra);
    const offset = Buffer.byteLength(text);
    const problem = `corrupt at line ${lines.length + 1} (byte ${offset}): a "task_started" line after the final status "failed" (only a resume may follow)`;
    const reason = `its journal is ${problem}`;
    for (const reader of READERS) {
      const r = await rig.run(reader.args(id));
      const what = reader.args(id).join(" ");
      if (FORENSIC.has(reader.verb)) {
        // The same problem, named the same way; forensics go on with the intact lines.
        assert.equal(r.stderr, `warning: The journal of run "${id}" is ${problem}; what follows is read from the ${lines.length} intact lines before it\n`, what);
        assert.equal(r.code, 0, what);
        continue;
      }
      assert.equal(r.stderr, `Cannot ${reader.verb} run "${id}": ${reason}\n`, what);
      assert.equal(r.code, reader.code, what);
      assert.equal(r.stdout, "", what);
    }
    const verify = await rig.run(["verify", id]);
    assert.equal(verify.code, 1);
    assert.equal(verify.stderr, `Journal "${path}" is corrupt at line ${lines.length + 1} (byte ${offset}): a "task_started" line after the final status "failed" (only a resume may follow)\n`);
    // Nothing was appended by the refused resume.
    assert.equal(await readFile(path, "utf8"), text + extra);
    const runs = await rig.run(["runs", "--json"]);
    assert.equal(runs.code, 0);
    const [listed] = JSON.parse(runs.stdout) as { status: string; problem: string }[];
    assert.equal(listed?.status, "unreadable");
    assert.equal(listed?.problem, `Cannot read run "${id}": ${reason}`);
  });

  test("a run without a journal gets the same sentence from every command", async () => {
    await using rig = await TestRig.create();
    const { id, path } = await failedRun(rig);
    await rm(path);
    for (const reader of READERS) {
      const r = await rig.run(reader.args(id));
      assert.equal(r.stderr, `Cannot ${reader.verb} run "${id}": it has no journal\n`, reader.args(id).join(" "));
      assert.equal(r.code, reader.code, reader.args(id).join(" "));
    }
  });

  test("a journal that is a folder is named as such, with no stack trace", async () => {
    await using rig = await TestRig.create();
    const { id, path } = await failedRun(rig);
    await rm(path);
    await rig.write(`state/runs/${id}/journal.jsonl/x`, "");
    const show = await rig.run(["show", id]);
    assert.equal(show.stderr, `Cannot show run "${id}": its journal "${path}" cannot be read: it is a folder\n`);
    assert.equal(show.code, 1);
    const resume = await rig.run(["resume", id]);
    assert.equal(resume.code, 3);
    assert.equal(resume.stderr, `Cannot resume run "${id}": its journal "${path}" cannot be read: it is a folder\n`);
  });

  test("wf logs never reads a log through a journaled path that leaves the run's folder", async () => {
    await using rig = await TestRig.create();
    const { id, path, text } = await failedRun(rig);
    await rig.write("secret.txt", "top secret\n");
    const lines = text.trimEnd().split("\n");
    // Re-encode every line with the stdout log of "a" pointing outside the run's folder.
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const rewritten = records.map((r) => {
      const { v: _v, seq, ts, run, crc: _crc, ...event } = r;
      if (event["type"] === "task_started" && event["task"] === "a") event["stdout_log"] = "../../../secret.txt";
      return encodeLine({ seq: seq as number, ts: ts as string, run: run as string }, event as Parameters<typeof encodeLine>[1]);
    });
    await writeFile(path, rewritten.join(""));
    const logs = await rig.run(["logs", id, "a"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.ok(!logs.stdout.includes("top secret"), logs.stdout);
    assert.equal(logs.stdout, "==> a (attempt 1) <==\n");
  });

  test("forensics on a journal damaged in the middle: show, logs and export read the intact lines with a warning; resume refuses", async () => {
    await using rig = await TestRig.create();
    const { id, path, text } = await failedRun(rig);
    const lines = text.split("\n");
    // Flip a byte inside the line of b's finished attempt: a CRC mismatch with intact lines after it.
    const bad = lines.findIndex((l) => l.includes('"type":"task_finished"') && l.includes('"task":"b"'));
    assert.ok(bad > 0);
    lines[bad] = lines[bad]!.replace('"exit_code":1', '"exit_code":7');
    await writeFile(path, lines.join("\n"));
    const offset = Buffer.byteLength(lines.slice(0, bad).join("\n")) + 1;
    const warning = `warning: The journal of run "${id}" is corrupt at line ${bad + 1} (byte ${offset}): CRC mismatch, and intact records follow; what follows is read from the ${bad} intact lines before it\n`;
    const show = await rig.run(["show", id]);
    assert.equal(show.stderr, warning);
    assert.equal(show.code, 0);
    assert.match(show.stdout, /\na +succeeded +1 +0 /);
    assert.match(show.stdout, /\nb +(running|interrupted) /);
    const json = await rig.run(["show", id, "--json"]);
    assert.equal(json.stderr, warning);
    const doc = JSON.parse(json.stdout) as { journal: { lines: number; corrupt_at: { line: number; offset: number } } };
    assert.deepEqual([doc.journal.lines, doc.journal.corrupt_at.line, doc.journal.corrupt_at.offset], [bad, bad + 1, offset]);
    const logs = await rig.run(["logs", id]);
    assert.equal(logs.stderr, warning);
    assert.equal(logs.code, 0);
    assert.equal(logs.stdout, "==> a (attempt 1) <==\na\n==> b (attempt 1) <==\n");
    const exported = await rig.run(["export", id]);
    assert.equal(exported.stderr, warning);
    assert.equal((JSON.parse(exported.stdout) as { records: unknown[] }).records.length, bad);
    const resume = await rig.run(["resume", id]);
    assert.equal(resume.stderr, `Cannot resume run "${id}": its journal is corrupt at line ${bad + 1} (byte ${offset}): CRC mismatch, and intact records follow\n`);
    assert.equal(resume.code, 3);
    assert.equal(await readFile(path, "utf8"), lines.join("\n"), "nothing was written");
  });
});
