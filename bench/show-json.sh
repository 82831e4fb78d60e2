#!/usr/bin/env bash
# Times the commands that read a whole journal on a 1,000,000-line one, against
# a floor measured in the same hyperfine session: node reading the same file,
# splitting it into lines and JSON.parse-ing each one
# (bench/show-json.floor.mjs). The commands: `wf show <run> --json`, `wf show`,
# `wf show --timeline`, `wf report -o FILE`, `wf resume --dry-run`, and the
# journal pass of a real `wf resume` (bench/resume-open.mjs: open for append,
# check and fold, append nothing). Prints each one's ratio to the floor (the
# target is at most 2) and peak RSS; exits 1 when `wf show --json` misses it.
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
table="$wf show $run --state-dir $work"
timeline="$wf show $run --timeline --state-dir $work"
report="$wf report $run -o $work/report.html --state-dir $work"
dryrun="$wf resume $run --dry-run --force --state-dir $work"
reopen="node bench/resume-open.mjs $journal $run"

# Fail early, with the CLI's own message, if one cannot read the run.
for c in "$show" "$table" "$timeline" "$report" "$dryrun" "$reopen"; do $c >/dev/null; done

uptime
hyperfine \
  --runs "$runs" --warmup 1 \
  --export-json "$json" --export-markdown "$md" \
  --command-name floor "$floor" \
  --command-name show-json "$show >/dev/null" \
  --command-name show "$table >/dev/null" \
  --command-name timeline "$timeline >/dev/null" \
  --command-name report "$report >/dev/null" \
  --command-name resume-dry-run "$dryrun >/dev/null" \
  --command-name resume-open "$reopen"
uptime

# Peak RSS of one run of each, in KiB, from GNU time.
peak() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M sh -c "$1 >/dev/null" 2>&1 | tail -1
  else
    echo "?"
  fi
}
rss=""
for c in "$floor" "$show" "$table" "$timeline" "$report" "$dryrun" "$reopen"; do rss="$rss $(peak "$c")"; done

echo
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const [file, ...rss] = process.argv.slice(1);
  const { results } = JSON.parse(readFileSync(file, "utf8"));
  const mib = (kib) => (Number.isFinite(Number(kib)) ? `${(Number(kib) / 1024).toFixed(0)} MiB` : "unknown");
  const floor = results[0];
  results.forEach((r, i) => {
    const ratio = i === 0 ? "" : `x${(r.mean / floor.mean).toFixed(2)}`;
    console.log(`  ${r.command.padEnd(15)} ${r.mean.toFixed(2)} s ± ${r.stddev.toFixed(2)}  ${ratio.padStart(6)}   peak RSS ${mib(rss[i])}`);
  });
  const ratio = results[1].mean / floor.mean;
  console.log(`Ratio show-json / floor: x${ratio.toFixed(2)} (target: at most x2.00) ${ratio <= 2 ? "PASS" : "FAIL"}`);
  process.exitCode = ratio <= 2 ? 0 : 1;
' "$root/$json" $rss
echo "Saved: $json and $md"
