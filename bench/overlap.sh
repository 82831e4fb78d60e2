#!/usr/bin/env bash
# Times the three execution modes on fixtures/bench/chain-vs-wide.toml with
# hyperfine and prints each mode's mean against the critical path, measured
# in the same hyperfine session as a plain `sh -c 'sleep 0.5; ...'`.
#
#   bench/overlap.sh                      # uses node bin/wf.js
#   WF_CLI='deno run -A src/main.ts' bench/overlap.sh
#   WF_CLI=dist/wf RUNS=20 bench/overlap.sh
#
# Results: bench/results/overlap-<date>.json (hyperfine's export) and .md.
# Method and expected ratios: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

source bench/lib.sh
bench_setup overlap
runs=${RUNS:-10}
workers=${MAX_PARALLEL:-4}
fixture=fixtures/bench/chain-vs-wide.toml

# Fail early, with the CLI's own message, if it cannot run the fixture.
if ! WF_STATE_DIR=$work $wf run "$fixture" --quiet >/dev/null; then
  echo "\"$wf run $fixture\" failed; is the CLI built (npm run build)?" >&2
  exit 1
fi

# The long chain's sleeps alone: the floor any scheduler can reach.
critical="sh -c 'sleep 0.5; sleep 0.5; sleep 0.5; sleep 0.5'"

hyperfine \
  --runs "$runs" --warmup 1 \
  --export-json "$json" --export-markdown "$md" \
  --command-name critical-path "$critical" \
  --command-name work-stealing "WF_STATE_DIR=$work $wf run $fixture --quiet --work-stealing --max-parallel $workers" \
  --command-name parallel "WF_STATE_DIR=$work $wf run $fixture --quiet --parallel --max-parallel $workers" \
  --command-name sequential "WF_STATE_DIR=$work $wf run $fixture --quiet"

echo
echo "Mean wall time against the critical path (expected: work-stealing ~1.0, parallel ~1.6, sequential ~3.4):"
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const { results } = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const base = results.find((r) => r.command === "critical-path").mean;
  for (const r of results) {
    console.log(`  ${r.command.padEnd(14)} ${r.mean.toFixed(3)} s ± ${r.stddev.toFixed(3)}  x${(r.mean / base).toFixed(2)}`);
  }
' "$root/$json"
echo
echo "Saved: $json and $md"
