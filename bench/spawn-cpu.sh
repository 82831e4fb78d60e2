#!/usr/bin/env bash
# Where the CPU of starting many tasks goes: the 2,000 `true` tasks of
# bench/spawn.sh, run by every command bench/spawn.sh times (`ninja -j8`, with
# and without two log files per command, the bare Node spawn loop, the floor
# of one task start alone and under a job shell, the same two made from Node,
# and `wf run --work-stealing --max-parallel 8`). Each command runs RUNS times inside a cpuacct cgroup,
# which counts every process of it (the launchers and the jobs included,
# whether or not anyone reaps them); wf and its launchers also report their
# own CPU at exit
# (bench/cpu-at-exit.cjs), so the rest is the job processes'. Needs root (a
# cgroup v1 cpuacct hierarchy at /sys/fs/cgroup/cpuacct) and node bin/wf.js.
#
#   RUNS=3 bench/spawn-cpu.sh
#
# Prints, per command, milliseconds of CPU per task: total, and for wf: wf
# itself, its launchers, and the jobs (the rest).
set -euo pipefail

cd "$(dirname "$0")/.."

source bench/lib.sh
bench_setup spawn-cpu ninja cc
tasks=${TASKS:-2000}
parallel=${PARALLEL:-8}
runs=${RUNS:-3}
cg=/sys/fs/cgroup/cpuacct/wf-bench-$$
if ! mkdir "$cg" 2>/dev/null; then
  echo "cannot make a cpuacct cgroup at $cg (root and cgroup v1 cpuacct are needed)" >&2
  exit 2
fi
trap 'rmdir "$cg" 2>/dev/null; rm -rf "$work"' EXIT

spawn_workload "$tasks"

# One measured command: its wall time and the cgroup's CPU, and the CPU wf and its launchers said they used.
measure() {
  local label=$1
  shift
  local before after start end
  rm -f "$work/cpu.txt" "$work/.ninja_log"
  rm -rf "$work/state" "$work/floor" "$work/logged/logs" "$work/logged/.ninja_log"
  mkdir "$work/floor" "$work/logged/logs"
  before=$(cat "$cg/cpuacct.usage")
  start=$(date +%s%N)
  # The command alone in the cgroup (this script stays outside it).
  (echo "$BASHPID" >"$cg/cgroup.procs" && WF_BENCH_CPU_FILE=$work/cpu.txt exec "$@" >/dev/null)
  end=$(date +%s%N)
  # Launchers and jobs may outlive wf by a moment: their CPU is counted once they are gone.
  while [ -n "$(cat "$cg/cgroup.procs")" ]; do sleep 0.05; done
  after=$(cat "$cg/cpuacct.usage")
  node -e '
    const [label, tasks, wallNs, cpuNs, file] = process.argv.slice(1);
    const per = (ms) => (ms / Number(tasks)).toFixed(2);
    let wf = 0, launchers = 0;
    try {
      for (const line of require("fs").readFileSync(file, "utf8").trim().split("\n")) {
        const [role, user, sys] = line.split(" ");
        if (role === "wf") wf += Number(user) + Number(sys); else launchers += Number(user) + Number(sys);
      }
    } catch {}
    const total = Number(cpuNs) / 1e6;
    const parts = wf === 0 ? "" : `  wf ${per(wf)}, launchers ${per(launchers)}, jobs ${per(total - wf - launchers)}`;
    console.log(`${label}: wall ${(Number(wallNs) / 1e9).toFixed(2)} s, CPU ${per(total)} ms per task${parts}`);
  ' "$label" "$tasks" "$((end - start))" "$((after - before))" "$work/cpu.txt"
}

uptime
for ((r = 1; r <= runs; r++)); do
  measure "ninja -j$parallel" ninja -C "$work" -j"$parallel"
  measure "ninja -j$parallel, logs" ninja -C "$work/logged" -j"$parallel"
  measure "node spawn loop" node bench/spawn-loop.mjs "$tasks" "$parallel"
  measure "floor" "$work/spawn-floor" "$tasks" "$parallel" "$work/floor"
  measure "floor, job shell" "$work/spawn-floor" "$tasks" "$parallel" "$work/floor" job-shell
  measure "node floor" node bench/spawn-loop.mjs "$tasks" "$parallel" "$work/floor"
  measure "node floor, job shell" node bench/spawn-loop.mjs "$tasks" "$parallel" "$work/floor" job-shell
  measure "wf run" env NODE_OPTIONS="--require ./bench/cpu-at-exit.cjs" node bin/wf.js run "$work/spawn.toml" --work-stealing --max-parallel "$parallel" --quiet --state-dir "$work/state"
done
uptime
