/**
 * `wf export` and `wf report -o` stream their output: the JSON document is
 * the same text `JSON.stringify(doc, null, 2)` gives, the tar holds logs of
 * several chunks byte for byte, and `-o FILE` on a full disk leaves neither
 * the file nor a temporary one (docs/cli.md, "wf export").
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cliCommand, TestRig } from "./rig.ts";

const hasTar = spawnSync("tar", ["--version"], { encoding: "utf8" }).stdout?.startsWith("tar (GNU tar)") === true;

// 3 MiB of printable bytes without a newline, then lines: more than one chunk of the export's reads.
const WORKFLOW = `name = "big"
[tasks.write]
cmd = 'head -c 3145728 /dev/zero | tr "\\\\0" x; printf "\\\\nend\\\\n"; echo on stderr >&2'
[tasks.after]
cmd = "echo done"
depends_on = ["write"]
`;

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Mounts a tmpfs of `size` at `dir`; false when this host does not allow it (not root, no mount). */
function mountSmall(dir: string, size = "1m"): boolean {
  return spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]).status === 0;
}

describe("wf export streams", () => {
  test("the JSON document is the text JSON.stringify(doc, null, 2) gives, records included", async () => {
    await using rig = await TestRig.create();
    await rig.write("big.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "big.toml"])).code, 0);
    const id = await rig.lastRunId();
    const r = await rig.run(["export", id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const doc = JSON.parse(r.stdout) as { format: string; records: unknown[]; run: { id: string } };
    assert.equal(r.stdout, `${JSON.stringify(doc, null, 2)}\n`);
    assert.deepEqual(doc.records, await rig.journal(id));
    assert.equal(doc.run.id, id);
    // -o FILE writes the same bytes.
    assert.deepEqual(await rig.run(["export", id, "-o", "run.json"]), { code: 0, signal: null, stdout: "", stderr: "" });
    assert.equal(await rig.read("run.json"), r.stdout);
  });

  test("a tar of logs over several chunks lists and extracts with GNU tar byte for byte", { skip: !hasTar }, async () => {
    await using rig = await TestRig.create();
    await rig.write("big.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "big.toml"])).code, 0);
    const id = await rig.lastRunId();
    assert.deepEqual(await rig.run(["export", id, "--format", "tar", "-o", "run.tar"]), { code: 0, signal: null, stdout: "", stderr: "" });
    await mkdir(rig.path("x"));
    const x = spawnSync("tar", ["-xf", "../run.tar"], { cwd: rig.path("x"), encoding: "utf8" });
    assert.equal(x.status, 0, x.stderr);
    assert.equal(x.stderr, "");
    const logsDir = join(rig.stateDir, "runs", id, "logs");
    const names = (await readdir(logsDir)).sort();
    assert.deepEqual((await readdir(rig.path(`x/${id}/logs`))).sort(), names);
    for (const n of names) assert.equal(sha(await readFile(rig.path(`x/${id}/logs/${n}`))), sha(await readFile(join(logsDir, n))), n);
    const big = await readFile(rig.path(`x/${id}/logs/write.1.stdout.log`));
    assert.equal(big.length, 3145728 + 5);
    assert.equal(await rig.read(`x/${id}/journal.jsonl`), await rig.journalText(id));
    // The same archive to stdout.
    const piped = spawnSync("sh", ["-c", '"$@" | cmp - run.tar', "sh", ...cliCommand(), "export", id, "--format", "tar", "-o", "-"], { cwd: rig.dir, env: rig.env(), encoding: "utf8" });
    assert.deepEqual({ status: piped.status, stdout: piped.stdout, stderr: piped.stderr }, { status: 0, stdout: "", stderr: "" });
    // Leftovers: only what the test made.
    assert.deepEqual((await readdir(rig.dir)).filter((n) => n.endsWith(".tmp")), []);
  });

  test("-o FILE on a full file system fails with one sentence and leaves no file, nor a temporary one", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("big.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "big.toml"])).code, 0);
    const id = await rig.lastRunId();
    await mkdir(rig.path("small"));
    if (!mountSmall(rig.path("small"))) {
      t.skip("cannot mount a tmpfs here");
      return;
    }
    try {
      const tar = await rig.run(["export", id, "--format", "tar", "-o", "small/run.tar"]);
      assert.deepEqual(tar, { code: 1, signal: null, stdout: "", stderr: 'Cannot write "small/run.tar": the disk is full\n' });
      assert.deepEqual(await readdir(rig.path("small")), []);
      // A file that was there is left as it was.
      await rig.write("small/run.tar", "old\n");
      const again = await rig.run(["export", id, "--format", "tar", "--output", "small/run.tar"]);
      assert.equal(again.code, 1);
      assert.deepEqual(await readdir(rig.path("small")), ["run.tar"]);
      assert.equal(await rig.read("small/run.tar"), "old\n");
    } finally {
      spawnSync("umount", [rig.path("small")]);
    }
  });

  test("report -o FILE on a full file system fails with one sentence and leaves no file", async (t) => {
    await using rig = await TestRig.create();
    await rig.write("big.toml", WORKFLOW);
    assert.equal((await rig.run(["run", "big.toml"])).code, 0);
    const id = await rig.lastRunId();
    await mkdir(rig.path("small"));
    // A page is more than 4 KiB: its scripts and styles are inlined.
    if (!mountSmall(rig.path("small"), "4k")) {
      t.skip("cannot mount a tmpfs here");
      return;
    }
    try {
      const r = await rig.run(["report", id, "-o", "small/page.html"]);
      assert.deepEqual(r, { code: 1, signal: null, stdout: "", stderr: `Cannot write "${rig.path("small/page.html")}": the disk is full\n` });
      assert.deepEqual(await readdir(rig.path("small")), []);
    } finally {
      spawnSync("umount", [rig.path("small")]);
    }
  });
});
