#!/usr/bin/env bash
# Times starting many tasks: 2,000 independent `true` tasks run by
# `wf run --work-stealing --max-parallel 8` (fully journaled, each task's
# stdout and stderr in its own log file), beside `ninja -j8` running the same
# 2,000 commands, `ninja -j8` running them with each command's stdout and
# stderr redirected to its own two files (the file creation wf does too), and
# a bare Node spawn loop (bench/spawn-loop.mjs, 8 at a time), and the floor of
# one task start as system calls (bench/spawn-floor.c, built here with cc:
# create the two log files, fork, exec `/bin/sh -c true`, wait, append a
# journal line with fdatasync, 8 at a time), alone and under a shell like wf's
# job shell (two shells exec'd per task, as in wf), and the same two floors
# made from Node (bench/spawn-loop.mjs DIR [job-shell]), in one hyperfine
# session, and prints wf's ratio to each, each floor's ratio to ninja, and
# the load average before and after. Each
# task runs `/bin/sh -c true`.
#
#   bench/spawn.sh                       # uses node bin/wf.js (npm run build first)
#   WF_CLI='deno run -A src/main.ts' bench/spawn.sh
#   TASKS=2000 PARALLEL=8 RUNS=5 bench/spawn.sh
#
# Results: bench/results/spawn-<date>.json and .md. Method: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."

source bench/lib.sh
bench_setup spawn ninja cc
tasks=${TASKS:-2000}
parallel=${PARALLEL:-8}
runs=${RUNS:-5}

# The same commands for wf, ninja and the floor.
spawn_workload "$tasks"
floor_dir=$work/floor

# One --prepare per command, in order: the logged ninja and the floors start from no log files, as wf does.
uptime
hyperfine --warmup 1 --runs "$runs" --export-json "$json" --export-markdown "$md" \
  --prepare true --prepare "rm -rf $work/logged/logs $work/logged/.ninja_log && mkdir $work/logged/logs" --prepare true \
  --prepare "rm -rf $floor_dir && mkdir $floor_dir" --prepare "rm -rf $floor_dir && mkdir $floor_dir" \
  --prepare "rm -rf $floor_dir && mkdir $floor_dir" --prepare "rm -rf $floor_dir && mkdir $floor_dir" --prepare true \
  -n "ninja -j$parallel" "ninja -C $work -j$parallel >/dev/null" \
  -n "ninja -j$parallel, logs" "ninja -C $work/logged -j$parallel >/dev/null" \
  -n "node spawn loop" "node bench/spawn-loop.mjs $tasks $parallel" \
  -n "floor" "$work/spawn-floor $tasks $parallel $floor_dir" \
  -n "floor, job shell" "$work/spawn-floor $tasks $parallel $floor_dir job-shell" \
  -n "node floor" "node bench/spawn-loop.mjs $tasks $parallel $floor_dir" \
  -n "node floor, job shell" "node bench/spawn-loop.mjs $tasks $parallel $floor_dir job-shell" \
  -n "wf run" "$wf run $work/spawn.toml --work-stealing --max-parallel $parallel --quiet --state-dir $work/state"
uptime

node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
  const mean = (n) => r.find((x) => x.command === n).mean;
  const wf = mean("wf run");
  console.log(`wf run / ninja -j'"$parallel"': x${(wf / mean("ninja -j'"$parallel"'")).toFixed(2)}`);
  console.log(`wf run / ninja -j'"$parallel"', logs: x${(wf / mean("ninja -j'"$parallel"', logs")).toFixed(2)}`);
  console.log(`wf run / node spawn loop: x${(wf / mean("node spawn loop")).toFixed(2)}`);
  console.log(`wf run / floor: x${(wf / mean("floor")).toFixed(2)}`);
  console.log(`wf run / floor, job shell: x${(wf / mean("floor, job shell")).toFixed(2)}`);
  console.log(`wf run / node floor, job shell: x${(wf / mean("node floor, job shell")).toFixed(2)}`);
  const ninja = mean("ninja -j'"$parallel"'");
  for (const n of ["floor", "floor, job shell", "node spawn loop", "node floor", "node floor, job shell"]) console.log(`${n} / ninja -j'"$parallel"': x${(mean(n) / ninja).toFixed(2)}`);
  console.log(`load average: ${require("os").loadavg().map((x) => x.toFixed(2)).join(" ")}`);
' "$json"
