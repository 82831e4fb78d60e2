#!/usr/bin/env node
/**
 * Builds dist/wf, the single executable (docs/packaging.md), with nothing but
 * node_modules: no download of any Node or pkg base binary.
 *
 *   esbuild src/sea-main.ts -> dist/sea/wf.cjs     one CommonJS file
 *   node --experimental-sea-config sea-config.json  -> dist/sea/wf.blob
 *   copy process.execPath -> dist/wf, postject the blob into it
 *
 * These are Node's documented single-executable steps, which pkg's SEA mode
 * also takes; pkg 6.14's command line always downloads its base binary, so we
 * take them ourselves (docs/packaging.md, "Why Node's steps and not pkg").
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const SENTINEL = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const config = JSON.parse(readFileSync(join(root, "sea-config.json"), "utf8"));
const bundle = join(root, config.main);
const blob = join(root, config.output);
const out = join(root, "dist", process.platform === "win32" ? "wf.exe" : "wf");

function step(what, fn) {
  const start = performance.now();
  const result = fn();
  console.log(`${what} (${Math.round(performance.now() - start)} ms)`);
  return result;
}

const major = Number(process.versions.node.split(".")[0]);
if (major < 20) throw new Error(`Cannot build the single executable: Node ${process.versions.node} has no SEA; use Node 20 or later`);

// Never leave an old binary behind a failed build: tests would run it.
rmSync(out, { force: true });
mkdirSync(dirname(bundle), { recursive: true });
step(`Bundled src/sea-main.ts into ${config.main}`, () =>
  require("esbuild").buildSync({
    entryPoints: [join(root, "src", "sea-main.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: `node${major}`,
    // CommonJS has no import.meta; the one use (runtime.ts, finding the entry beside it) is never reached in the binary.
    define: { "import.meta.url": '""' },
    logLevel: "warning",
  }),
);

// The blob must come from the same Node as the binary it goes into, so both are process.execPath.
step(`Wrote the SEA blob ${config.output}`, () =>
  execFileSync(process.execPath, ["--experimental-sea-config", "sea-config.json"], { cwd: root, stdio: "inherit" }),
);

copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
await (async () => {
  const start = performance.now();
  const { inject } = require("postject");
  await inject(out, "NODE_SEA_BLOB", readFileSync(blob), {
    sentinelFuse: SENTINEL,
    ...(process.platform === "darwin" ? { machoSegmentName: "NODE_SEA" } : {}),
  });
  console.log(`Injected it into a copy of ${process.execPath} (${Math.round(performance.now() - start)} ms)`);
})();
if (process.platform === "darwin") execFileSync("codesign", ["--sign", "-", out], { stdio: "inherit" });

// A distribution's node that links libnode or libuv would make a binary that
// needs those libraries on every host: refuse it rather than ship it.
if (process.platform === "linux") {
  let libs = "";
  try {
    libs = execFileSync("ldd", [out], { encoding: "utf8" });
  } catch {
    // No ldd (static or musl toolchain): nothing to check.
  }
  const shared = libs.match(/\b(libnode|libuv|libssl|libcrypto|libicu\w*|libz|libbrotli\w*|libnghttp2|libcares)\.so\S*/g);
  if (shared) {
    throw new Error(`Cannot build a standalone dist/wf from ${process.execPath}: it links ${[...new Set(shared)].join(", ")}; run this script with an official Node build`);
  }
}

// Prove it: the binary runs on its own and knows it is the single executable.
const version = execFileSync(out, ["--version"], { cwd: "/", env: { PATH: "" }, encoding: "utf8" }).trim();
if (!version.includes("single executable")) throw new Error(`Internal error: dist/wf --version said "${version}"`);
const mb = (readFileSync(out).length / 1e6).toFixed(1);
console.log(`Built dist/wf (${mb} MB): ${version}`);
