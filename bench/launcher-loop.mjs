// The launcher alone: starts one launcher (`wf` started with its launcher
// argument, the way a run starts it) and has it run N `true` jobs, K at a
// time, answering each result with an ack as `wf` does, without the rest of
// `wf` (no journal, no engine). For profiling the launcher:
//
//   node bench/launcher-loop.mjs DIR 2000 8 [NODE_FLAG...]
//   node bench/launcher-loop.mjs /tmp/l 2000 8 --cpu-prof --cpu-prof-dir=/tmp/prof
//
// DIR gets the spawn log and the jobs' logs (DIR/logs). Needs dist/ (npm run build).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [dir, totalArg = "2000", parallelArg = "8", ...nodeFlags] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node bench/launcher-loop.mjs DIR [N] [K] [NODE_FLAG...]");
  process.exit(2);
}
const total = Number(totalArg);
const parallel = Number(parallelArg);
mkdirSync(`${dir}/logs`, { recursive: true });
const main = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));
const launcher = spawn(process.execPath, [...nodeFlags, main, "__wf-launcher", String(process.pid)], { stdio: ["pipe", "pipe", "inherit"] });
const send = (request) => launcher.stdin.write(`${JSON.stringify(request)}\n`);
send({ op: "init", spawn_log: `${dir}/spawn.jsonl`, base_env: process.env });

let started = 0;
let ended = 0;
const startOne = () => {
  const id = ++started;
  const name = `t${id}.1`;
  send({
    op: "start", id,
    job: {
      cmd: "true", cwd: dir, env: { add: {} }, stdout: `${dir}/logs/${name}.stdout.log`, stderr: `${dir}/logs/${name}.stderr.log`,
      status: `${dir}/logs/${name}.status`, cap: 64 * 1024 * 1024, owner: { run: "bench", node: `t${id}`, attempt: 1 },
    },
  });
};
for (let i = 0; i < Math.min(parallel, total); i++) startOne();

let buffered = "";
launcher.stdout.setEncoding("utf8");
launcher.stdout.on("data", (chunk) => {
  buffered += chunk;
  for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
    const report = JSON.parse(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    if (report.ev !== "exited") continue;
    if (report.result.exit_code !== 0) {
      console.error(`job ${report.id} failed: ${JSON.stringify(report.result)}`);
      process.exitCode = 1;
    }
    send({ op: "ack", id: report.id });
    ended++;
    if (started < total) startOne();
    else if (ended === total) launcher.stdin.end();
  }
});
