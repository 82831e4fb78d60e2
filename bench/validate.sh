#!/usr/bin/env bash
# Times `wf validate` on two large workflows beside a floor that only parses the
# same TOML with smol-toml, in the same hyperfine session, and prints the ratios
# (the target is at most 3):
#   chain.toml: 20,000 tasks in one chain, each reading what the one before registers;
#   wide.toml:  20,000 independent tasks reading 10,000 variables from [vars].
#
#   bench/validate.sh                       # uses node bin/wf.js (npm run build first)
#   WF_CLI='deno run -A src/main.ts' bench/validate.sh
#   TASKS=20000 VARS=10000 RUNS=10 bench/validate.sh
#
# Results: bench/results/validate-<date>.json and .md. Method: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."

source bench/lib.sh
bench_setup validate
runs=${RUNS:-10}

node bench/validate.gen.mjs "$work" "${TASKS:-20000}" "${VARS:-10000}"

hyperfine --warmup 1 --runs "$runs" --export-json "$json" --export-markdown "$md" \
  -n "floor chain" "node bench/validate.floor.mjs $work/chain.toml" \
  -n "validate chain" "$wf validate $work/chain.toml" \
  -n "floor wide" "node bench/validate.floor.mjs $work/wide.toml" \
  -n "validate wide" "$wf validate $work/wide.toml"

node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const { results } = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const of = (name) => results.find((r) => r.command === name);
  const mean = (name) => of(name).mean;
  for (const shape of ["chain", "wide"]) {
    const ratio = mean(`validate ${shape}`) / mean(`floor ${shape}`);
    console.log(`${shape}: validate ${mean(`validate ${shape}`).toFixed(3)} s, floor ${mean(`floor ${shape}`).toFixed(3)} s, ratio ${ratio.toFixed(2)} (target <= 3)`);
  }
  // On a shared machine the means move with the load; the fastest runs and the CPU time
  // (user + system) move less, so they are printed too, as a check on the ratio above.
  for (const shape of ["chain", "wide"]) {
    const v = of(`validate ${shape}`), f = of(`floor ${shape}`);
    const cpu = (r) => r.user + r.system;
    console.log(`${shape}: ratio of fastest runs ${(v.min / f.min).toFixed(2)}, of CPU time ${(cpu(v) / cpu(f)).toFixed(2)}`);
  }
  try {
    console.log(`load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  } catch {
    // Not Linux: no load average to show.
  }
' "$json"
