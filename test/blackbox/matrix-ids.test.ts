/**
 * Matrix cells whose values differ only in characters a file name cannot
 * hold, or whose values hold the id's own punctuation (`,` `=` `]`): each
 * cell has its own node id, its own logs and its own status file, so `wf
 * logs` and a resume after `kill -9` never mix two cells up.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { collect, TestRig, until } from "./rig.ts";

describe("matrix cells with look-alike values", () => {
  test("日本 and 中国, a/b and a_b: four nodes, eight log files, and wf logs shows each cell its own output", async () => {
    await using rig = await TestRig.create();
    await rig.write("m.toml", `
[tasks.say]
cmd = 'echo "lang $WF_VAR_lang"'
matrix = { lang = ["日本", "中国"] }

[tasks.path]
cmd = 'echo "p $WF_VAR_p"'
matrix = { p = ["a/b", "a_b"] }
`);
    const r = await rig.run(["run", "m.toml", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const id = await rig.lastRunId();
    const finished = (await rig.journal(id)).filter((l) => l.type === "task_finished").map((l) => l["task"]).sort();
    assert.deepEqual(finished, ["path[p=a/b]", "path[p=a_b]", "say[lang=中国]", "say[lang=日本]"]);
    const files = await readdir(join(rig.stateDir, "runs", id, "logs"));
    assert.equal(new Set(files).size, 8, files.join(" "));
    for (const [node, line] of [["say[lang=日本]", "lang 日本"], ["say[lang=中国]", "lang 中国"], ["path[p=a/b]", "p a/b"], ["path[p=a_b]", "p a_b"]]) {
      const logs = await rig.run(["logs", id, node!]);
      assert.deepEqual([logs.code, logs.stdout, logs.stderr], [0, `==> ${node} (attempt 1) <==\n${line}\n`, ""], node);
    }
  });

  test("values holding , = and ] give four cells four quoted ids, and depends_on names one of them", async () => {
    await using rig = await TestRig.create();
    await rig.write("q.toml", `
[tasks.t]
cmd = 'echo "$WF_VAR_a|$WF_VAR_b" >> cells.txt'
matrix = { a = ["1", "1,b=2"], b = ["2,b=3", "3"] }

[tasks.u]
cmd = "echo after"
depends_on = ['t[a="1,b=2",b=3]']
`);
    const r = await rig.run(["run", "q.toml", "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await rig.read("cells.txt")).split("\n").filter(Boolean).sort(), ["1,b=2|2,b=3", "1,b=2|3", "1|2,b=3", "1|3"]);
    const id = await rig.lastRunId();
    const journal = await rig.journal(id);
    assert.deepEqual(journal.filter((l) => l.type === "task_finished").map((l) => l["task"]).sort(), [
      't[a="1,b=2",b="2,b=3"]', 't[a="1,b=2",b=3]', 't[a=1,b="2,b=3"]', "t[a=1,b=3]", "u",
    ]);
    const graph = await rig.run(["graph", "q.toml", "--format", "json"]);
    assert.equal(graph.code, 0, graph.stderr);
    const u = (JSON.parse(graph.stdout) as { nodes: { id: string; deps: string[] }[] }).nodes.find((n) => n.id === "u");
    assert.deepEqual(u?.deps, ['t[a="1,b=2",b=3]']);
    const logs = await rig.run(["logs", id, 't[a="1,b=2"]']);
    assert.equal(logs.code, 0, logs.stderr);
    // The command writes to cells.txt: each selected cell's log is empty.
    assert.equal(logs.stdout, '==> t[a="1,b=2",b="2,b=3"] (attempt 1) <==\n==> t[a="1,b=2",b=3] (attempt 1) <==\n');
    // Unquoted, the same value reads as two keys.
    await rig.write("bad.toml", `[tasks.t]\ncmd = "x"\nmatrix = { a = ["1,b=2"] }\n[tasks.u]\ncmd = "x"\ndepends_on = ["t[a=1,b=2]"]\n`);
    const bad = await rig.run(["validate", "bad.toml"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown matrix value "1" for key "a" of task "t" in depends_on of "u"/);
  });

  test("after kill -9 of wf, a failed cell is adopted as failed, not as its look-alike twin that succeeded", async () => {
    await using rig = await TestRig.create();
    // The two ids differ only in "/" against "_"; the cell a/b fails once it may end.
    await rig.write("k.toml", `
[tasks.path]
cmd = 'touch "started-$(echo "$WF_VAR_p" | tr / -)"; while [ ! -f go ]; do sleep 0.05; done; [ "$WF_VAR_p" = a_b ]'
matrix = { p = ["a/b", "a_b"] }
`);
    const child = rig.spawn(["run", "k.toml", "--parallel"]);
    const ran = collect(child);
    const exists = (f: string) => rig.read(f).then(() => true, () => false);
    await until("both cells started", async () => (await exists("started-a-b")) && (await exists("started-a_b")));
    process.kill(child.pid!, "SIGKILL");
    await ran;
    await rig.write("go", "");
    const id = await rig.lastRunId();
    const resumed = await rig.run(["resume", id]);
    assert.equal(resumed.code, 1, resumed.stdout + resumed.stderr);
    const first = (await rig.journal(id)).filter((l) => l.type === "task_finished" && l["attempt"] === 1);
    assert.deepEqual(first.map((l) => [l["task"], l["state"], l["exit_code"], l["adopted"]]).sort(), [
      ["path[p=a/b]", "failed", 1, true],
      ["path[p=a_b]", "succeeded", 0, true],
    ]);
  });
});
