#!/usr/bin/env bash
# Times `wf show <run> --json` on a 1,000,000-line journal against a floor
# measured in the same hyperfine session: node reading the same file, splitting
# it into lines and JSON.parse-ing each one (bench/show-json.floor.mjs). Prints
# the ratio (the target is at most 2) and each command's peak RSS.
#
#   bench/show-json.sh                          # uses node bin/wf.js (npm run build first)
#   WF_CLI='deno run -A src/main.ts' bench/show-json.sh
#   LINES=200000 TASKS=10000 RUNS=5 bench/show-json.sh
#
# The journal is written by bench/show-json.gen.mjs with the project's own
# encoder: a graph of TASKS flaky tasks (up to 3 attempts each), resumed until
# LINES lines are spent. Results: bench/results/show-json-<date>.json and .md.
# Method and figures: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

source bench/lib.sh
bench_setup show-json
runs=${RUNS:-5}
lines=${LINES:-1000000}
tasks=${TASKS:-50000}

echo "Writing a $lines-line journal ($tasks tasks) in $work ..."
run=$(node bench/show-json.gen.mjs "$work" "$lines" "$tasks")
journal=$work/runs/$run/journal.jsonl
echo "  $(wc -c <"$journal") bytes"

floor="node bench/show-json.floor.mjs $journal"
show="$wf show $run --json --state-dir $work"

# Fail early, with the CLI's own message, if it cannot show the run.
$show >/dev/null

hyperfine \
  --runs "$runs" --warmup 1 \
  --export-json "$json" --export-markdown "$md" \
  --command-name floor "$floor" \
  --command-name show-json "$show >/dev/null"

# Peak RSS of one run of each, in KiB, from GNU time.
peak() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M sh -c "$1 >/dev/null" 2>&1 | tail -1
  else
    echo "?"
  fi
}
floor_rss=$(peak "$floor")
show_rss=$(peak "$show")

echo
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const [file, floorRss, showRss] = process.argv.slice(1);
  const { results } = JSON.parse(readFileSync(file, "utf8"));
  const [floor, show] = results;
  const mib = (kib) => (Number.isFinite(Number(kib)) ? `${(Number(kib) / 1024).toFixed(0)} MiB` : "unknown");
  for (const [r, rss] of [[floor, floorRss], [show, showRss]]) {
    console.log(`  ${r.command.padEnd(10)} ${r.mean.toFixed(2)} s ± ${r.stddev.toFixed(2)}   peak RSS ${mib(rss)}`);
  }
  const ratio = show.mean / floor.mean;
  console.log(`Ratio show-json / floor: x${ratio.toFixed(2)} (target: at most x2.00) ${ratio <= 2 ? "PASS" : "FAIL"}`);
  process.exitCode = ratio <= 2 ? 0 : 1;
' "$root/$json" "$floor_rss" "$show_rss"
echo "Saved: $json and $md"
