#!/usr/bin/env bash
# The time wf adds per Slurm job: JOBS independent tasks of `true` run by
# `wf run --executor slurm --work-stealing --max-parallel P`, against two
# floors in the same hyperfine session: the same JOBS jobs submitted with
# `sbatch --wait`, P at a time (xargs -P), and all JOBS submitted at once
# (`sbatch --parsable`), then `squeue` asked every 0.1 s until none is
# pending or running (the cluster's own throughput), on the cluster of
# scripts/slurm-cluster.sh (started here if it is not running; stopped again
# only if this script started it).
#
#   bench/slurm.sh                 # JOBS=200 P=8 RUNS=3, node bin/wf.js
#   WF_CLI=dist/wf JOBS=50 bench/slurm.sh
#
# Results: bench/results/slurm-<date>.json and .md; method and figures:
# docs/performance.md, "Slurm jobs".
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

source bench/lib.sh
bench_setup slurm
jobs=${JOBS:-200}
parallel=${P:-8}
runs=${RUNS:-3}

started=""
if ! exports=$(scripts/slurm-cluster.sh status 2>/dev/null); then
  exports=$(scripts/slurm-cluster.sh start)
  started=yes
fi
eval "$exports"
stop_cluster() {
  rm -rf "$work"
  if [ -n "$started" ]; then scripts/slurm-cluster.sh stop >/dev/null; fi
}
trap stop_cluster EXIT

# JOBS independent tasks of `true`, all on Slurm.
{
  echo 'name = "slurm-bench"'
  echo 'executor = "slurm"'
  for i in $(seq 1 "$jobs"); do printf '[tasks.t%d]\ncmd = "true"\n' "$i"; done
} >"$work/jobs.toml"
mkdir -p "$work/floor"
cat >"$work/all-at-once.sh" <<SCRIPT
for i in \$(seq 1 $jobs); do sbatch --parsable --chdir=$work/floor --output=/dev/null --wrap true; done >$work/ids
ids=\$(paste -sd, $work/ids)
while [ -n "\$(squeue --noheader --jobs=\$ids --states=PENDING,CONFIGURING,RUNNING,COMPLETING 2>/dev/null)" ]; do sleep 0.1; done
SCRIPT

# Fail early, with the CLI's own message, if it cannot run the workflow.
if ! WF_STATE_DIR=$work/state $wf run "$work/jobs.toml" --quiet --work-stealing --max-parallel "$parallel" >/dev/null; then
  echo "\"$wf run --executor slurm\" failed on the test cluster" >&2
  exit 1
fi

hyperfine \
  --runs "$runs" \
  --export-json "$json" --export-markdown "$md" \
  --command-name "sbatch --wait, $parallel at a time" \
  "seq 1 $jobs | xargs -P $parallel -I{} sbatch --wait --quiet --chdir=$work/floor --output=/dev/null --wrap true" \
  --command-name "sbatch all, then squeue until done" \
  "sh $work/all-at-once.sh" \
  --command-name "wf run --executor slurm" \
  "WF_STATE_DIR=$work/state $wf run $work/jobs.toml --quiet --work-stealing --max-parallel $parallel"

echo
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const { results } = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const jobs = Number(process.argv[2]);
  const wf = results.at(-1);
  for (const floor of results.slice(0, -1)) {
    console.log(`  ${floor.command}: ${floor.mean.toFixed(2)} s ± ${floor.stddev.toFixed(2)}; wf ${wf.mean.toFixed(2)} s ± ${wf.stddev.toFixed(2)}: x${(wf.mean / floor.mean).toFixed(2)}`);
    console.log(`    per job: floor ${(1000 * floor.mean / jobs).toFixed(0)} ms, wf ${(1000 * wf.mean / jobs).toFixed(0)} ms, wf adds ${(1000 * (wf.mean - floor.mean) / jobs).toFixed(0)} ms`);
  }
' "$root/$json" "$jobs"
echo
echo "Saved: $json and $md"
