#!/usr/bin/env bash
# Times `wf report` on a run of 2,000 tasks made by the real CLI (TASKS `true`
# tasks in layers of 50, each after one task of the layer before, run with
# --work-stealing --max-parallel 8), against a floor measured in the same
# hyperfine session: `wf show <run> --json` of the same run (the same read of
# the journal, with a plain JSON document written). Also times
# `wf show --timeline`, then opens the page in headless Chromium
# (bench/report.page.mjs): load time, DOM size, and the time a filter takes.
#
#   bench/report.sh                        # uses node bin/wf.js (npm run build first)
#   WF_CLI='deno run -A src/main.ts' bench/report.sh
#   TASKS=500 RUNS=5 bench/report.sh
#
# Results: bench/results/report-<date>.json and .md. Figures: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

source bench/lib.sh
bench_setup report
runs=${RUNS:-10}
tasks=${TASKS:-2000}

echo "Running a workflow of $tasks true tasks in $work ..."
{
  echo 'name = "bench"'
  for ((i = 0; i < tasks; i++)); do
    echo "[tasks.t$i]"
    echo 'cmd = "true"'
    if ((i >= 50)); then echo "depends_on = [\"t$((i - 50))\"]"; fi
  done
} >"$work/bench.toml"
$wf run "$work/bench.toml" --work-stealing --max-parallel 8 --quiet --state-dir "$work/state"
run=$(ls "$work/state/runs")
echo "  run $run: $(wc -l <"$work/state/runs/$run/journal.jsonl") journal lines"

floor="$wf show $run --json --state-dir $work/state"
report="$wf report $run -o $work/report.html --state-dir $work/state"
timeline="$wf show $run --timeline --state-dir $work/state"

# Fail early, with the CLI's own message, if any cannot read the run.
$floor >/dev/null
$report >/dev/null
$timeline >/dev/null
echo "  page: $(wc -c <"$work/report.html") bytes"

hyperfine \
  --runs "$runs" --warmup 1 \
  --export-json "$json" --export-markdown "$md" \
  --command-name "show --json (floor)" "$floor >/dev/null" \
  --command-name report "$report >/dev/null" \
  --command-name "show --timeline" "$timeline >/dev/null"

echo
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const { results } = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const [floor, ...rest] = results;
  for (const r of results) console.log(`  ${r.command.padEnd(20)} ${r.mean.toFixed(3)} s ± ${r.stddev.toFixed(3)}`);
  for (const r of rest) console.log(`Ratio ${r.command} / floor: x${(r.mean / floor.mean).toFixed(2)}`);
' "$root/$json"
echo "Saved: $json and $md"

echo
echo "The page in headless Chromium:"
node bench/report.page.mjs "$work/report.html"
