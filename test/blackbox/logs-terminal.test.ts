/**
 * `wf logs` to a terminal (a pseudo-terminal from util-linux script(1)): no
 * ESC byte of task output reaches it, but `--raw` prints the bytes as they
 * are (docs/cli.md, "wf logs").
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { cliCommand, TestRig } from "./rig.ts";

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).stdout?.includes("util-linux") === true;
const quote = (w: string) => `'${w.replaceAll("'", "'\\''")}'`;

test("wf logs escapes control characters on a terminal, and --raw does not", { skip: !hasScript }, async () => {
  await using rig = await TestRig.create();
  await rig.write("esc.toml", `[tasks.e]\ncmd = 'printf "a\\\\033[31mred\\\\r\\\\n"'\n`);
  assert.equal((await rig.run(["run", "esc.toml"])).code, 0);
  const id = await rig.lastRunId();
  const onTty = (args: string[]) =>
    spawnSync("script", ["-qec", [...cliCommand(), ...args].map(quote).join(" "), "/dev/null"], { cwd: rig.dir, env: rig.env(), encoding: "latin1" });
  const escaped = onTty(["logs", id]);
  assert.equal(escaped.status, 0);
  assert.equal(escaped.stdout.includes("\x1b"), false);
  assert.match(escaped.stdout, /a\\x1b\[31mred\\x0d/);
  const raw = onTty(["logs", id, "--raw"]);
  assert.equal(raw.status, 0);
  assert.equal(raw.stdout.includes("a\x1b[31mred"), true);
});
