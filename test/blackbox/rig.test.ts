/**
 * The rig itself, checked with `sh -c` standing in for the CLI, so these run
 * before (and independently of) the real `wf`.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cliCommand, repoRoot, shellWords, TestRig } from "./rig.ts";

/** A fake CLI: `sh -c <script> sh <args...>`. */
const fakeCli = (script: string) => ["sh", "-c", script, "sh"];

describe("TestRig", () => {
  test("shellWords() splits like sh without expanding", () => {
    assert.deepEqual(shellWords(`deno run -A 'src/main.ts'`), ["deno", "run", "-A", "src/main.ts"]);
    assert.deepEqual(shellWords(`a "b c" d\\ e ''`), ["a", "b c", "d e", ""]);
    assert.throws(() => shellWords(`a 'b`));
  });

  test("cliCommand() defaults to node bin/wf.js under the repo root", () => {
    const root = repoRoot();
    assert.ok(existsSync(join(root, "package.json")));
    const words = cliCommand("");
    assert.equal(words[0], "node");
    assert.ok(words[1]?.endsWith("bin/wf.js"));
    assert.deepEqual(cliCommand("node ./package.json --x"), ["node", join(root, "package.json"), "--x"]);
  });

  test("the CLI never sees the caller's WF_* or XDG_* variables, only what the rig and the test pass", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { WF_STATE_DIR: "/caller/state", WF_WORKFLOWS_DIR: "/caller/flows", XDG_STATE_HOME: "/caller/xdg", FORCE_COLOR: "1" });
    try {
      await using rig = await TestRig.create({ cli: fakeCli(`env | grep -E '^(WF_|XDG_|FORCE_COLOR)' | sort`) });
      const r = await rig.run([], { env: { XDG_STATE_HOME: "/given" } });
      assert.equal(r.stdout, `WF_STATE_DIR=${rig.stateDir}\nXDG_STATE_HOME=/given\n`);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test("run() gives the CLI the rig dir, state dir, NO_COLOR, stdin and exit code", async () => {
    const rig = await TestRig.create({ cli: fakeCli(`pwd; echo "$WF_STATE_DIR $NO_COLOR $1"; cat; echo err >&2; exit 3`) });
    try {
      const r = await rig.run(["arg1"], { stdin: "in\n" });
      const [pwd, env, stdin] = r.stdout.trimEnd().split("\n");
      assert.equal(r.code, 3);
      assert.equal(r.signal, null);
      assert.equal(r.stderr, "err\n");
      assert.ok(pwd !== undefined && pwd.endsWith(rig.dir.split("/").at(-1)!));
      assert.equal(env, `${rig.stateDir} 1 arg1`);
      assert.equal(stdin, "in");
    } finally {
      await rig.cleanup();
    }
    assert.equal(existsSync(rig.dir), false);
  });

  test("await using removes the directory", async () => {
    let dir = "";
    {
      await using rig = await TestRig.create({ cli: fakeCli("true") });
      dir = rig.dir;
      await rig.write("a/b.txt", "x");
      assert.equal(await rig.read("a/b.txt"), "x");
    }
    assert.equal(existsSync(dir), false);
  });

  test("run() kills the process group at timeoutMs", async () => {
    await using rig = await TestRig.create({ cli: fakeCli("sleep 30") });
    const started = Date.now();
    const r = await rig.run([], { timeoutMs: 200 });
    assert.equal(r.signal, "SIGKILL");
    assert.ok(Date.now() - started < 10_000);
  });

  test("journal(), runIds() and lastRunId() read the state dir", async () => {
    await using rig = await TestRig.create({ cli: fakeCli("true") });
    assert.deepEqual(await rig.runIds(), []);
    await rig.write("state/runs/bbb/journal.jsonl", `{"v":1,"seq":0,"ts":"2025-01-01T00:00:00.000Z","type":"header"}\n`);
    await rig.write(
      "state/runs/aaa/journal.jsonl",
      `{"v":1,"seq":0,"ts":"2025-01-02T00:00:00.000Z","type":"header"}\n{"v":1,"seq":1,"ts":"2025-01-02T00:00:00.000Z","type":"run_status","status":"success"}\n`,
    );
    assert.deepEqual(await rig.runIds(), ["bbb", "aaa"]);
    assert.equal(await rig.lastRunId(), "aaa");
    const lines = await rig.journal("aaa");
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.["status"], "success");
  });
});
