// The floor of starting processes from Node: `true` N times, K at a time,
// with child_process.spawn from a small process (what wf's per-task start is
// compared with). Usage: node bench/spawn-loop.mjs 2000 8
import { spawn } from "node:child_process";

const total = Number(process.argv[2] ?? 2000);
const parallel = Number(process.argv[3] ?? 8);
let started = 0;

function next() {
  if (started >= total) return Promise.resolve();
  started++;
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", "true"], { stdio: "ignore", detached: true });
    child.once("error", reject);
    child.once("close", resolve);
  }).then(next);
}

await Promise.all(Array.from({ length: parallel }, next));
