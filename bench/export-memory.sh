#!/usr/bin/env bash
# Peak memory and time of reading a run with gigabytes of logs: `wf export
# --format tar -o FILE`, `wf export` (JSON) and `wf logs` to /dev/null, beside
# `cat` of the same log files (the reference: the least a reader of them can
# do) and `tar -cf` of the run's folder. The run is made by wf itself: TASKS
# tasks, each printing LOG_MB MiB of 64-byte lines (a log is cut at 64 MiB,
# so that is the most one task's stdout log holds). Times come from one
# hyperfine session; peak RSS from GNU time, the largest over RUNS runs. The
# target is a peak under 200 MB whatever the size of the logs.
#
#   bench/export-memory.sh                  # 74 tasks x 64 MiB: 4.6 GiB of logs
#   TASKS=2 LOG_MB=64 RUNS=2 bench/export-memory.sh
#   WF_CLI='deno run -A src/main.ts' bench/export-memory.sh
#
# Needs 2.1x the logs' size of free disk in $TMPDIR (the run and the tar).
# Results: bench/results/export-memory-<date>.json and .md. Figures:
# docs/performance.md, "Exporting big logs".
set -euo pipefail

cd "$(dirname "$0")/.."

source bench/lib.sh
bench_setup export-memory
tasks=${TASKS:-74}
log_mb=${LOG_MB:-64}
runs=${RUNS:-3}
if [ ! -x /usr/bin/time ]; then
  echo "GNU time is not installed: apt-get update && apt-get install -y time" >&2
  exit 2
fi

state=$work/state
{
  echo 'name = "big-logs"'
  for ((i = 0; i < tasks; i++)); do
    printf '[tasks.t%d]\ncmd = "yes %s | head -c %d"\n' "$i" "$(printf 'line of task output %.0s' 1 2)padding-to-64-bytes-x" $((log_mb << 20))
  done
} >"$work/big.toml"

echo "Running $tasks tasks of $log_mb MiB of output each ..."
$wf run "$work/big.toml" --quiet --state-dir "$state"
run=$($wf runs --json --state-dir "$state" | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].id))')
logs=$state/runs/$run/logs
echo "  $(du -sh "$logs" | cut -f1) of logs in $logs"

cat_cmd="cat $logs/* >/dev/null"
tar_cmd="tar -cf $work/ref.tar -C $state/runs $run"
export_tar="$wf export $run --format tar -o $work/run.tar --state-dir $state"
export_json="$wf export $run --state-dir $state >/dev/null"
logs_cmd="$wf logs $run --state-dir $state >/dev/null"

# Fail early, with the CLI's own message, if one of them cannot read the run.
for c in "$export_tar" "$export_json" "$logs_cmd"; do sh -c "$c"; done

hyperfine \
  --runs "$runs" \
  --export-json "$json" --export-markdown "$md" \
  --command-name cat "$cat_cmd" \
  --command-name tar "$tar_cmd" \
  --command-name "export tar" "$export_tar" \
  --command-name "export json" "$export_json" \
  --command-name logs "$logs_cmd"

# The largest peak RSS (KiB) of `runs` runs of a command, from GNU time.
peak() {
  local most=0 kib
  for ((r = 0; r < runs; r++)); do
    kib=$(/usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -1)
    ((kib > most)) && most=$kib
  done
  echo "$most"
}
rss=()
for c in "$cat_cmd" "$tar_cmd" "$export_tar" "$export_json" "$logs_cmd"; do rss+=("$(peak "$c")"); done

echo
node --input-type=module -e '
  import { readFileSync, appendFileSync } from "node:fs";
  const [file, md, ...rss] = process.argv.slice(1);
  const { results } = JSON.parse(readFileSync(file, "utf8"));
  const cat = results[0].mean;
  const lines = ["", "| command | mean | vs cat | peak RSS |", "|---|---|---|---|"];
  results.forEach((r, i) => {
    lines.push(`| ${r.command} | ${r.mean.toFixed(2)} s | ${(r.mean / cat).toFixed(2)}x | ${(Number(rss[i]) / 1024).toFixed(0)} MiB |`);
  });
  console.log(lines.join("\n"));
  appendFileSync(md, `${lines.join("\n")}\n`);
' "$json" "$md" "${rss[@]}"
echo
echo "Results: $json and $md"
