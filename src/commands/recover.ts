/**
 * `wf resume --all-interrupted`: after an outage (a reboot, a crash of the
 * host), resume every run whose wf died without a final status and that no
 * live process owns, each under its own lock, at most `--max-runs` at once,
 * oldest first; one line per run, then a count (docs/resume.md, "After an
 * outage"). A run that failed or was cancelled is left alone, and so is one
 * that another wf takes first: two of these racing resume every run once.
 */
import type { Io } from "../platform/io.ts";
import { formatDuration } from "../report/human.ts";
import { inert, jsonText } from "../report/inert.ts";
import { describeFailure } from "../report/failure.ts";
import { RunEndReporter } from "../report/run-end.ts";
import { readRun } from "../runs/open.ts";
import { runFolderIds } from "../runs/paths.ts";
import { exitCodeOf, type Failure, type Outcome } from "../util/failure.ts";
import { ok } from "../util/result.ts";
import { resumeCommand, type ResumeFlags } from "./resume.ts";

export interface RecoverFlags extends ResumeFlags {
  /** At most this many runs are resumed at once. */
  readonly maxRuns: number;
  readonly json: boolean;
}

interface Candidate {
  readonly id: string;
  readonly workflow: string;
  readonly started: string;
}

/** What became of one run. */
type RunOutcome =
  | { readonly kind: "resumed"; readonly status: "success" | "failed" | "cancelled"; readonly reason?: string; readonly ms: number; readonly code: number }
  | { readonly kind: "refused"; readonly failure: Failure }
  | { readonly kind: "left-alone"; readonly failure: Failure };

/** The interrupted runs, oldest first: no final status, and no live wf holds their lock. Unreadable runs are not among them. */
async function interruptedRuns(stateDir: string, workflow: string | undefined): Promise<Candidate[]> {
  const found: Candidate[] = [];
  for (const id of await runFolderIds(stateDir)) {
    const read = await readRun(stateDir, id, "resume", { keepRecords: false });
    if (!read.ok || read.value.live || read.value.state.status !== "interrupted") continue;
    const started = read.value.state.started;
    if (workflow !== undefined && started.workflow !== workflow) continue;
    found.push({ id, workflow: started.workflow, started: read.value.state.startedAt });
  }
  return found.sort((a, b) => a.started.localeCompare(b.started) || a.id.localeCompare(b.id));
}

export async function recoverCommand(stateDir: string, flags: RecoverFlags, io: Io): Promise<Outcome> {
  const runs = await interruptedRuns(stateDir, flags.workflow);
  if (flags.dryRun) {
    if (runs.length === 0) io.out("No interrupted runs\n");
    for (const run of runs) {
      const plan = await resumeCommand(run.id, stateDir, flags, new RunEndReporter(run.id, io), io);
      if (!plan.ok) io.out(inert(`  (${describeFailure(plan.error)})\n`));
    }
    return ok(0);
  }
  const outcomes = new Map<string, RunOutcome>();
  const queue = [...runs];
  const worker = async () => {
    for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
      const outcome = await resumeOne(stateDir, run, flags, io);
      outcomes.set(run.id, outcome);
      io.out(flags.json ? `${jsonText(outcomeJson(run, outcome))}\n` : inert(outcomeLine(run, outcome)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(flags.maxRuns, Math.max(1, runs.length)) }, worker));
  const all = [...outcomes.values()];
  const resumed = all.filter((o) => o.kind === "resumed");
  const succeeded = resumed.filter((o) => o.status === "success").length;
  const left = all.filter((o) => o.kind === "left-alone").length;
  const failed = all.length - succeeded - left;
  if (!flags.json) io.out(summaryLine(runs.length, resumed.length, succeeded, failed, left));
  // A signal that cancelled a run is the exit code; else 1 when any run failed or was refused.
  const signalled = resumed.find((o) => o.code > 3);
  if (signalled !== undefined) return ok(signalled.code);
  return ok(failed > 0 ? 1 : 0);
}

async function resumeOne(stateDir: string, run: Candidate, flags: RecoverFlags, io: Io): Promise<RunOutcome> {
  const reporter = new RunEndReporter(run.id, io);
  const outcome = await resumeCommand(run.id, stateDir, { ...flags, onlyInterrupted: true }, reporter, io);
  if (!outcome.ok) {
    const failure = outcome.error;
    // Another wf holds it, or resumed it since it was listed: its business, not a failure.
    const theirs = failure.kind === "run-locked" || failure.kind === "run-moved-on";
    return { kind: theirs ? "left-alone" : "refused", failure };
  }
  const end = reporter.end;
  if (end === undefined) return { kind: "resumed", status: "failed", reason: "it stopped without a final status", ms: reporter.elapsedMs(), code: outcome.value };
  return { kind: "resumed", status: end.status, ...(end.reason === undefined ? {} : { reason: end.reason }), ms: reporter.elapsedMs(), code: outcome.value };
}

function outcomeLine(run: Candidate, o: RunOutcome): string {
  const who = `${run.id} (${run.workflow})`;
  switch (o.kind) {
    case "resumed": {
      const why = o.reason === undefined ? "" : ` (${o.reason})`;
      return `${o.status === "success" ? "✓" : "✗"} ${who}: resumed, ${o.status} in ${formatDuration(o.ms)}${why}\n`;
    }
    case "refused":
      return `✗ ${who}: not resumed: ${describeFailure(o.failure)}\n`;
    case "left-alone":
      return `- ${who}: left alone: ${describeFailure(o.failure)}\n`;
  }
}

function outcomeJson(run: Candidate, o: RunOutcome): Record<string, unknown> {
  const base = { run: run.id, workflow: run.workflow };
  switch (o.kind) {
    case "resumed":
      return { ...base, outcome: o.status, duration_ms: o.ms, ...(o.reason === undefined ? {} : { reason: o.reason }) };
    case "refused":
    case "left-alone":
      return { ...base, outcome: o.kind, reason: describeFailure(o.failure), exit_code: exitCodeOf(o.failure) };
  }
}

function summaryLine(found: number, resumed: number, succeeded: number, failed: number, left: number): string {
  if (found === 0) return "No interrupted runs\n";
  const parts = [`${succeeded} succeeded`, `${failed} failed or refused`];
  if (left > 0) parts.push(`${left} left to another wf`);
  return `Resumed ${resumed} of ${found} interrupted run${found === 1 ? "" : "s"}: ${parts.join(", ")}\n`;
}
