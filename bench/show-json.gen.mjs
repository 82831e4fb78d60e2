// Writes one run with a journal of exactly LINES lines, as `wf run` would
// leave it: a big graph of flaky tasks, run, then resumed until the line
// budget is spent. Every line comes from the project's own encoder (dist/), so
// seq, CRC-32C and schema are real.
//
//   node bench/show-json.gen.mjs <state-dir> [lines] [tasks]
//
// Prints the run id. Deterministic: the same arguments give the same bytes.
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const { encodeLine } = await import(join(root, "dist/src/journal/line.js"));

const [stateDir, linesArg = "1000000", tasksArg = "50000"] = process.argv.slice(2);
if (stateDir === undefined) {
  console.error("usage: node bench/show-json.gen.mjs <state-dir> [lines] [tasks]");
  process.exit(2);
}
const LINES = Number(linesArg);
const TASKS = Number(tasksArg);
const run = "BenchShow1";
const dir = join(stateDir, "runs", run);
mkdirSync(join(dir, "logs"), { recursive: true, mode: 0o700 });
writeFileSync(join(dir, "workflow.toml"), '[tasks.a]\ncmd = "true"\n', { mode: 0o600 });

// A small linear congruential generator: the journal must not change between sessions.
let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

const ids = Array.from({ length: TASKS }, (_, i) => `pkg${String(i % 500).padStart(3, "0")}/step-${i}`);
const nodes = ids.map((id, i) => ({
  id,
  task: id.split("/")[1],
  deps: i === 0 ? [] : [ids[Math.floor(rand() * i)], ...(i > 1 && rand() < 0.5 ? [ids[Math.floor(rand() * i)]] : [])]
    .filter((d, k, a) => a.indexOf(d) === k),
  def_sha256: "ab".repeat(32),
}));

const fd = openSync(join(dir, "journal.jsonl"), "w", 0o600);
let seq = 0;
let pending = "";
const t0 = Date.UTC(2025, 2, 1, 2, 0, 0);
function emit(event) {
  pending += encodeLine({ seq, ts: new Date(t0 + seq * 37).toISOString(), run }, event);
  seq++;
  if (pending.length > 1 << 20) flush();
}
function flush() {
  writeSync(fd, pending);
  pending = "";
}
// Room for the closing run_status.
const full = () => seq >= LINES - 1;

emit({ type: "header", format: 1, writer: "wf 0.1.0 (node 20.0.0)" });
emit({
  type: "run_started", workflow: "nightly-monorepo", file: "/srv/ci/nightly.toml", file_sha256: "cd".repeat(32),
  tags: ["nightly", "bench"], nodes, mode: "work-stealing", max_parallel: 8, var_names: ["BRANCH"],
  host: "ci-runner-7", pid: 4121, wf_version: "0.1.0", runtime: "node 20.0.0",
});
emit({ type: "run_status", status: "running" });

const succeeded = new Uint8Array(TASKS);
const attempts = new Uint32Array(TASKS);
let pid = 10_000;
// One execution: every task not yet succeeded gets up to 3 attempts, flaky ones fail.
function execute() {
  for (let i = 0; i < TASKS && !full(); i++) {
    const task = ids[i];
    if (succeeded[i]) {
      emit({ type: "task_skipped", task, reason: "it succeeded before the resume" });
      continue;
    }
    for (let k = 1; k <= 3 && !full(); k++) {
      const attempt = ++attempts[i];
      const base = `logs/${task.replace("/", "_")}.${attempt}`;
      emit({ type: "task_started", task, attempt, max_attempts: attempts[i] - k + 3, cmd: `make -C ${task.split("/")[0]} ${nodes[i].task}`,
        stdout_log: `${base}.stdout.log`, stderr_log: `${base}.stderr.log` });
      if (full()) return;
      emit({ type: "task_spawned", task, attempt, pid: pid++ });
      if (full()) return;
      const ok = rand() < 0.7;
      const retry = !ok && k < 3;
      emit({ type: "task_finished", task, attempt, state: ok ? "succeeded" : "failed", exit_code: ok ? 0 : 2, signal: null,
        timed_out: false, duration_ms: Math.floor(rand() * 90_000), will_retry: retry, ignored: false,
        ...(ok ? {} : { error: `make: *** [${nodes[i].task}] Error 2\nflaky test "net/${i}" timed out after 30 s` }) });
      if (ok) {
        succeeded[i] = 1;
        if (rand() < 0.1 && !full()) emit({ type: "var_registered", name: `version_${i % 50}`, value: `v1.${i}.${attempt}`, task });
        break;
      }
    }
  }
}
execute();
while (!full()) {
  emit({ type: "run_status", status: "failed", reason: "some tasks failed" });
  if (full()) break;
  emit({ type: "run_status", status: "resuming", mode: "work-stealing", max_parallel: 8 });
  execute();
}
emit({ type: "run_status", status: "failed", reason: "some tasks failed" });
flush();
closeSync(fd);
console.log(run);
