#!/usr/bin/env bash
# Shows that `wf runs --limit 20` costs what --limit asks for, not what the
# state directory holds: it times the listing over 50 and over 5,000 runs in
# the same hyperfine session and prints the ratio (the target is at most 2).
#
#   bench/runs-listing.sh                       # uses node bin/wf.js (npm run build first)
#   WF_CLI='deno run -A src/main.ts' bench/runs-listing.sh
#   SMALL=50 LARGE=5000 RUNS=20 bench/runs-listing.sh
#
# The runs are written directly (valid journals made with the project's
# encodeLine, and the run index), which takes seconds instead of 5,000 `wf run`s.
# Results: bench/results/runs-listing-<date>.json and .md. Method: docs/performance.md.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

source bench/lib.sh
bench_setup runs-listing
runs=${RUNS:-20}
small=${SMALL:-50}
large=${LARGE:-5000}

# Writes <dir>/runs/<id>/{journal.jsonl,workflow.toml,logs/} for $2 runs, a
# minute apart, each a 3-task run that succeeded, then the index.
generate() {
  node --input-type=module -e '
    import { mkdirSync, writeFileSync } from "node:fs";
    import { join } from "node:path";
    const root = process.argv[1];
    const { encodeLine } = await import(join(root, "dist/src/journal/line.js"));
    const { writeIndex } = await import(join(root, "dist/src/runs/index.js"));
    const [dir, count] = [process.argv[2], Number(process.argv[3])];
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const entries = [];
    const t0 = Date.UTC(2025, 0, 1);
    for (let i = 0; i < count; i++) {
      let id = "";
      for (let n = i * 7919 + 104729, k = 0; k < 10; k++, n = Math.floor(n / 62) + k * 131) id += alphabet[n % 62];
      const runDir = join(dir, "runs", id);
      mkdirSync(join(runDir, "logs"), { recursive: true, mode: 0o700 });
      const tasks = ["lint", "test", "build"];
      const events = [
        { type: "header", format: 1, writer: "wf bench" },
        { type: "run_started", workflow: i % 2 ? "nightly" : "ci", file: "/srv/ci.toml", file_sha256: "0".repeat(64), tags: ["bench"],
          nodes: tasks.map((t, j) => ({ id: t, task: t, deps: j ? [tasks[j - 1]] : [], def_sha256: "1".repeat(64) })),
          mode: "sequential", max_parallel: 1, var_names: [], host: "bench", pid: 1, wf_version: "0.1.0", runtime: "node" },
        { type: "run_status", status: "running" },
        ...tasks.flatMap((t) => [
          { type: "task_started", task: t, attempt: 1, max_attempts: 1, cmd: `make ${t}`, stdout_log: `logs/${t}.1.stdout.log`, stderr_log: `logs/${t}.1.stderr.log` },
          { type: "task_finished", task: t, attempt: 1, state: "succeeded", exit_code: 0, signal: null, timed_out: false, duration_ms: 1000, will_retry: false, ignored: false },
        ]),
        { type: "run_status", status: "success" },
      ];
      const start = t0 + i * 60_000;
      const text = events.map((e, seq) => encodeLine({ seq, ts: new Date(start + seq * 1000).toISOString(), run: id }, e)).join("");
      writeFileSync(join(runDir, "journal.jsonl"), text, { mode: 0o600 });
      writeFileSync(join(runDir, "workflow.toml"), "[tasks.lint]\ncmd = \"make lint\"\n", { mode: 0o600 });
      entries.push({ id, workflow: events[1].workflow, tags: ["bench"], started: new Date(start + 1000).toISOString() });
    }
    // Last, so the index is newer than runs/ and no rebuild is needed.
    await writeIndex(dir, entries);
  ' "$root" "$1" "$2"
}

echo "Generating $small and $large runs in $work ..."
generate "$work/small" "$small"
generate "$work/large" "$large"

# Fail early, with the CLI's own message, if it cannot list.
WF_STATE_DIR=$work/large $wf runs --limit 3

hyperfine \
  --runs "$runs" --warmup 3 \
  --export-json "$json" --export-markdown "$md" \
  --command-name "runs-$small" "WF_STATE_DIR=$work/small $wf runs --limit 20" \
  --command-name "runs-$large" "WF_STATE_DIR=$work/large $wf runs --limit 20"

echo
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const { results } = JSON.parse(readFileSync(process.argv[1], "utf8"));
  const [a, b] = results;
  for (const r of results) console.log(`  ${r.command.padEnd(10)} ${(r.mean * 1000).toFixed(1)} ms ± ${(r.stddev * 1000).toFixed(1)}`);
  const ratio = b.mean / a.mean;
  console.log(`Ratio ${b.command} / ${a.command}: x${ratio.toFixed(2)} (target: at most x2.00) ${ratio <= 2 ? "PASS" : "FAIL"}`);
  process.exitCode = ratio <= 2 ? 0 : 1;
' "$root/$json"
echo "Saved: $json and $md"
