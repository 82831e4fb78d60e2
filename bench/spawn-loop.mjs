// Starting processes from Node: `/bin/sh -c true` N times, K at a time, with
// child_process.spawn from a small process (what wf's per-task start is
// compared with).
//
//   node bench/spawn-loop.mjs 2000 8                 # the bare spawn loop
//   node bench/spawn-loop.mjs 2000 8 DIR             # the floor's system calls, from Node
//   node bench/spawn-loop.mjs 2000 8 DIR job-shell   # the same under a job shell
//   node bench/spawn-loop.mjs 2000 8 DIR job-shell-go
//
// With DIR it makes the system calls of bench/spawn-floor.c from Node: for
// each task it creates its two log files in DIR/logs, starts the command
// (its own process group) with stdout and stderr on them, and once it has
// ended appends one journal line to DIR/journal.jsonl with fdatasync. With
// `job-shell` the command runs under the floor's job shell (two shells
// exec'd per task, as in wf). That is the least a Node program can do to
// start a task whose result outlives it. `job-shell-go` adds wf's start
// handshake: each job shell first waits for a "go" line on a pipe of its own
// (fd 4), written once the job has started, as wf's launcher does.
import { spawn } from "node:child_process";
import { closeSync, constants, fdatasyncSync, mkdirSync, openSync, writeSync } from "node:fs";

const total = Number(process.argv[2] ?? 2000);
const parallel = Number(process.argv[3] ?? 8);
const dir = process.argv[4];
const jobShell = process.argv[5] === "job-shell" || process.argv[5] === "job-shell-go";
const go = process.argv[5] === "job-shell-go";
// As in bench/spawn-floor.c; with `go`, it first waits for its go line.
const JOB_SHELL = `${go ? "IFS= read -r wf_go <&4 || exit 125; exec 4<&-; " : ""}( exec /bin/sh -c "$1" 2>&5 5>&- ); s=$?; printf '{"exited":"%s","code":%d}\\n' "$2" "$s" >/dev/null; exit $s`;
const LOG = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_TRUNC | constants.O_NOFOLLOW;

let journal;
if (dir !== undefined) {
  mkdirSync(`${dir}/logs`, { recursive: true });
  journal = openSync(`${dir}/journal.jsonl`, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_TRUNC, 0o600);
}

function start(i) {
  if (journal === undefined) return spawn("/bin/sh", ["-c", "true"], { stdio: "ignore", detached: true });
  const out = openSync(`${dir}/logs/t${i}.1.stdout.log`, LOG, 0o600);
  const err = openSync(`${dir}/logs/t${i}.1.stderr.log`, LOG, 0o600);
  const child = jobShell
    ? spawn("/bin/sh", ["-c", JOB_SHELL, "wf-job", "true", `t${i}.1.status`], { stdio: ["ignore", out, "ignore", "ignore", go ? "pipe" : "ignore", err], detached: true })
    : spawn("/bin/sh", ["-c", "true"], { stdio: ["ignore", out, err], detached: true });
  closeSync(out);
  closeSync(err);
  if (go) {
    child.stdio[4].on("error", () => {});
    child.stdio[4].end("go\n");
  }
  return child;
}

let started = 0;
function next() {
  if (started >= total) return Promise.resolve();
  const i = started++;
  return new Promise((resolve, reject) => {
    const child = start(i);
    child.once("error", reject);
    child.once("close", (code) => {
      if (journal !== undefined) {
        writeSync(journal, `{"v":1,"type":"task_finished","pid":${child.pid},"state":"succeeded","exit_code":${code}}\n`);
        fdatasyncSync(journal);
      }
      resolve();
    });
  }).then(next);
}

await Promise.all(Array.from({ length: parallel }, next));
