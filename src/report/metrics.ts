/**
 * A run's outcome in the Prometheus text exposition format (version 0.0.4),
 * for node_exporter's textfile collector: what `--metrics-file` writes once an
 * execution of `wf run` or `wf resume` has journaled its final status
 * (docs/cli.md, "Metrics for monitoring"). Pure: the folded run goes in, the
 * text comes out. Every figure comes from the journal, so the same text can be
 * rendered again from the run at any later time.
 *
 * Every series is labelled by the workflow's name; only `wf_last_run_info`
 * carries the run id, so the other series keep their identity from run to run.
 */
import type { RunState, TaskState } from "../journal/fold.ts";
import { runDurationMs } from "../runs/list.ts";

/** The final statuses, each with a `wf_last_run_status` line whatever the run ended with. */
export const FINAL_STATUSES = ["success", "failed", "cancelled"] as const;

/** Nodes per state, every state included: a Record, so a state added to TaskState fails to compile until it is counted here. */
function taskCounts(state: RunState): Record<TaskState, number> {
  const counts: Record<TaskState, number> = { pending: 0, running: 0, interrupted: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  for (const t of state.tasks.values()) counts[t.state]++;
  return counts;
}

/** A label value as the format writes it between double quotes: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : "\\n"));
}

/** A sample value: a finite number in the shortest decimal form that reads back the same. */
function sampleValue(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`Internal error: metric value ${n} is not finite`);
  return String(n);
}

/** One metric family: its HELP and TYPE lines, then one line per sample. */
function gauge(name: string, help: string, samples: readonly { labels: Readonly<Record<string, string>>; value: number }[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const s of samples) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",");
    lines.push(`${name}{${labels}} ${sampleValue(s.value)}`);
  }
  return lines.join("\n") + "\n";
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

/**
 * The metrics of a run. Meant for a run that ended (a final status); for one
 * that did not, every `wf_last_run_status` line is 0 and there is no
 * `wf_last_run_end_timestamp_seconds`. `live` and `now` are runDurationMs's.
 */
export function renderMetrics(state: RunState, opts: { readonly live: boolean; readonly now: number }): string {
  const workflow = state.started.workflow;
  const w = { workflow };
  const counts = taskCounts(state);
  const families = [
    gauge("wf_last_run_info", "The id of the workflow's last run to end, as the label run; always 1.", [
      { labels: { ...w, run: state.runId }, value: 1 },
    ]),
    gauge("wf_last_run_status", "Whether the workflow's last run ended with this status (success, failed or cancelled): 1 for it, 0 for the others.",
      FINAL_STATUSES.map((status) => ({ labels: { ...w, status }, value: state.status === status ? 1 : 0 }))),
    gauge("wf_last_run_start_timestamp_seconds", "When the workflow's last run started (its first execution, not a resume), in seconds since the Unix epoch.", [
      { labels: w, value: seconds(state.startedAt) },
    ]),
    ...(state.endedAt === undefined ? [] : [
      gauge("wf_last_run_end_timestamp_seconds", "When the workflow's last run journaled its final status, in seconds since the Unix epoch.", [
        { labels: w, value: seconds(state.endedAt) },
      ]),
    ]),
    gauge("wf_last_run_duration_seconds", "Wall time of the workflow's last run as wf show gives it: from its start to its final status, resumes and the time between them included.", [
      { labels: w, value: runDurationMs(state, opts.live, opts.now) / 1000 },
    ]),
    gauge("wf_last_run_tasks", "Task nodes of the workflow's last run in each state at its end (forensic tasks not counted).",
      (Object.keys(counts) as TaskState[]).map((s) => ({ labels: { ...w, state: s }, value: counts[s] }))),
    gauge("wf_last_run_resumes", "How many times the workflow's last run was resumed.", [{ labels: w, value: state.resumes }]),
  ];
  return families.join("");
}
