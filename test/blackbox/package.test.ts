/**
 * The npm package: `npm pack` makes a tarball whose `wf` bin works through
 * `npx` in an empty directory with a fresh npm cache, as on a machine that
 * never saw the repository (npx fetches the dependencies from the registry).
 *
 * It needs the registry and takes a while, so it runs only with
 * WF_TEST_PACKAGE=1 (.ci/run sets it). It packs the dist/ already built by
 * `npm test` (`--ignore-scripts`: no rebuild under the feet of other tests).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { VERSION } from "../../src/version.ts";
import { callerFreeEnv, collect, repoRoot, type RunResult } from "./rig.ts";

const enabled = process.env["WF_TEST_PACKAGE"] === "1";
const skip = enabled ? false : "set WF_TEST_PACKAGE=1 to pack the package and run it with npx (needs the npm registry, takes ten seconds or so)";

/** This process's environment minus what an npm script run adds, plus a private npm cache. */
function npmEnv(cache: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(callerFreeEnv())) {
    if (/^npm_(package|lifecycle)_/.test(k) || k === "npm_config_local_prefix" || k === "INIT_CWD") continue;
    env[k] = v;
  }
  return {
    ...env, npm_config_cache: cache, npm_config_update_notifier: "false", npm_config_fund: "false", NO_COLOR: "1",
    // A fresh cache fetches every dependency: ride out a registry's passing error rather than fail on it.
    npm_config_fetch_retries: "5", npm_config_fetch_retry_mintimeout: "2000", npm_config_fetch_retry_maxtimeout: "120000",
  };
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<RunResult> {
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  return collect(child, { timeoutMs: 300_000 });
}

describe("npm package", () => {
  test("npx runs the packed tarball's wf bin in an empty directory with a fresh cache", { skip }, async () => {
    const root = repoRoot();
    assert.ok(existsSync(join(root, "dist", "src", "main.js")), "dist/ is built (npm run build)");
    const dir = await mkdtemp(join(tmpdir(), "wf-pack-"));
    try {
      const env = npmEnv(join(dir, "npm-cache"));
      const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], root, env);
      assert.equal(packed.code, 0, packed.stderr);
      const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      assert.ok(info !== undefined);
      const files = info.files.map((f) => f.path);
      for (const needed of ["bin/wf.js", "dist/src/main.js", "dist/src/cli/main.js", "package.json"]) {
        assert.ok(files.includes(needed), `the tarball holds ${needed}`);
      }
      assert.deepEqual(files.filter((f) => f.startsWith("dist/test/") || f.startsWith("src/") || f === "dist/wf"), []);

      const work = join(dir, "empty");
      await mkdir(work);
      const tarball = join(dir, info.filename);
      const version = await run("npx", ["--yes", "--package", tarball, "wf", "--version"], work, env);
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, new RegExp(`^wf/${VERSION.replaceAll(".", "\\.")} \\(node \\d+\\.\\d+\\.\\d+\\)`));

      await writeFile(join(work, "hello.toml"), `name = "hello"\n[tasks.a]\ncmd = "echo hi"\n`);
      const ran = await run("npx", ["--yes", "--package", tarball, "wf", "run", "hello.toml", "--quiet", "--state-dir", "state"], work, env);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /^✓ hello completed in \S+\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
