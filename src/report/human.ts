/**
 * The terminal lines of a run (docs/cli.md), one per event, and on a TTY a live
 * progress line. `quiet` keeps only failures and the final line (for cron).
 * Every text from the run (names, errors, output, values) is made inert on its
 * way in, so that only wf's own colours and progress line reach the terminal.
 */
import process from "node:process";
import { createColors } from "picocolors";
import type { EventOf, JournalRecord } from "../journal/events.ts";
import { unreachable } from "../util/unreachable.ts";
import type { Reporter } from "./reporter.ts";
import { describeFailure } from "./failure.ts";
import type { Failure } from "../util/failure.ts";
import { inert, inertDeep } from "./inert.ts";

export interface HumanOptions {
  readonly quiet: boolean;
  readonly color: boolean;
  /** Show the live progress line (a TTY, not quiet). */
  readonly live: boolean;
  readonly write: (text: string) => void;
  /** Where warnings go (stderr): they are not events of the run. */
  readonly writeErr: (text: string) => void;
}

/** `1.2s`, `2m3s`, `1h2m`: short enough for a status line. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 === 0 ? "" : `${s % 60}s`}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${m % 60 === 0 ? "" : `${m % 60}m`}`;
}

/** Why an attempt failed, in a few words: `exit 1`, `timed out`, `killed by SIGKILL`. */
export function failureSummary(e: EventOf<"task_finished">): string {
  if (e.timed_out) return "timed out";
  if (e.signal !== null) return `killed by ${e.signal}`;
  // Failed though it exited 0: what it registers was lost with its log (log_error).
  if (e.exit_code === 0 && e.log_error !== undefined) return "exit 0, output lost";
  if (e.exit_code !== null) return `exit ${e.exit_code}`;
  return e.error ?? "did not start";
}

export class HumanReporter implements Reporter {
  private readonly c;
  private readonly maxAttempts = new Map<string, number>();
  /** The first attempt number each task had in this execution (a resume goes on counting). */
  private readonly firstAttempt = new Map<string, number>();
  private readonly running = new Set<string>();
  private workflow = "workflow";
  private startedAt = 0;
  private total = 0;
  private ended = 0;
  private progressShown = false;
  /** Why `--resume-failed` started this run rather than resuming one: said once its `running` line comes. */
  private newRunWhy: string | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: HumanOptions) {
    this.c = createColors(opts.color);
  }

  record(record: JournalRecord): void {
    const r = inertDeep(record);
    switch (r.type) {
      case "header":
      case "task_spawned":
      case "var_registered":
      case "recovered":
      case "lock_taken_over":
        return;
      case "run_started":
        this.workflow = r.workflow;
        this.startedAt = Date.parse(r.ts);
        this.total = r.nodes.length;
        this.newRunWhy = r.resume_failed;
        if (this.opts.live) this.ticker = setInterval(() => this.drawProgress(), 1000);
        return;
      case "run_status":
        if (r.status === "resuming") this.startedAt = Date.parse(r.ts);
        if (r.status === "running" || r.status === "resuming") {
          // A resume replays the run's start line first: only a `running` line follows a new start.
          const why = r.status === "running" ? this.newRunWhy : r.resume_failed;
          this.newRunWhy = undefined;
          if (why !== undefined) this.line(`${this.c.dim(r.status === "running" ? "→" : "↻")} ${r.status === "running" ? "new run" : "resuming run"} ${r.run} (--resume-failed): ${why}`, false);
          return;
        }
        return this.finalLine(r);
      case "task_started":
        this.maxAttempts.set(r.task, r.max_attempts);
        if (!this.firstAttempt.has(r.task)) this.firstAttempt.set(r.task, r.attempt);
        if (r.forensic_for === undefined) this.running.add(r.task);
        return this.drawProgress();
      case "task_finished":
        return this.taskFinished(r);
      case "task_skipped":
        this.ended++;
        return this.line(`${this.c.dim("→")} ${r.task} ${this.c.dim(`(skipped: ${r.reason})`)}`, false);
      case "task_reattached":
        this.running.add(r.task);
        return this.line(`${this.c.dim("…")} ${r.task} ${this.c.dim(`(still running from the interrupted execution: waiting for ${r.job_id === undefined ? `pid ${r.pid}` : `Slurm job ${r.job_id}`})`)}`, false);
      case "orphan_killed":
        return this.line(`${this.c.yellow("!")} ${r.task} (left running by a killed wf: ended ${r.job_id === undefined ? `pid ${r.pid}` : `Slurm job ${r.job_id}`})`, true);
      case "task_cancelled":
        this.ended++;
        return this.line(`${this.c.yellow("✗")} ${r.task} ${this.c.dim(`(cancelled: ${r.reason})`)}`, false);
      default:
        return unreachable(r);
    }
  }

  output(task: string, _stream: "stdout" | "stderr", line: string): void {
    this.line(`${this.c.dim(`[${inert(task)}]`)} ${inert(line)}`, false);
  }

  problem(failure: Failure): void {
    this.warn(describeFailure(failure));
  }

  warn(message: string): void {
    this.clearProgress();
    this.opts.writeErr(`${this.c.yellow("warning:")} ${inert(message)}\n`);
    this.drawProgress();
  }

  close(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    this.clearProgress();
  }

  private taskFinished(r: EventOf<"task_finished">): void {
    const forensic = r.forensic_for === undefined ? "" : `forensic for ${r.forensic_for === "*" ? "the workflow" : `"${r.forensic_for}"`}, `;
    if (r.forensic_for === undefined && !r.will_retry) {
      this.running.delete(r.task);
      this.ended++;
    }
    const took = formatDuration(r.duration_ms);
    const adopted = r.adopted === true ? ", adopted" : "";
    if (r.state === "succeeded") {
      return this.line(`${this.c.green("✓")} ${r.task} ${this.c.dim(`(${forensic}succeeded in ${took}${adopted})`)}`, false);
    }
    if (r.adopted === true) {
      const mark = r.ignored ? this.c.yellow("✗") : this.c.red("✗");
      return this.line(`${mark} ${r.task} (${forensic}failed: ${failureSummary(r)}, adopted${r.ignored ? ", ignored" : ""})`, false);
    }
    // Attempt numbers go on counting across resumes; the counter shown is this execution's.
    const first = this.firstAttempt.get(r.task) ?? r.attempt;
    const last = this.maxAttempts.get(r.task) ?? r.attempt;
    const overall = first > 1 ? `, ${r.attempt} in all` : "";
    const attempts = `attempt ${r.attempt - first + 1}/${last - first + 1}${overall}`;
    const what = `${forensic}failed: ${failureSummary(r)}, ${attempts}`;
    if (r.will_retry) return this.line(`${this.c.yellow("↻")} ${r.task} ${this.c.dim(`(${what}; retrying)`)}`, false);
    const detail = r.error !== undefined && r.exit_code !== null ? `\n${indent(r.error)}` : "";
    const mark = r.ignored ? this.c.yellow("✗") : this.c.red("✗");
    this.line(`${mark} ${r.task} (${what}${r.ignored ? ", ignored" : ""})${this.c.dim(detail)}`, !r.ignored);
  }

  private finalLine(r: EventOf<"run_status"> & { ts: string; run: string }): void {
    this.close();
    const took = formatDuration(Math.max(0, Date.parse(r.ts) - this.startedAt));
    if (r.status === "success") {
      return this.line(`${this.c.green("✓")} ${this.workflow} completed in ${took}`, true);
    }
    const why = r.reason === undefined ? "" : ` (${r.reason})`;
    this.line(`${this.c.red("✗")} ${this.workflow} ${r.status} in ${took}${why}. Resume with: wf resume ${r.run}`, true);
  }

  /** Prints a line above the progress line; `important` lines survive `--quiet`. */
  private line(text: string, important: boolean): void {
    if (this.opts.quiet && !important) return;
    this.clearProgress();
    this.opts.write(`${text}\n`);
    this.drawProgress();
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.opts.write("\r\x1b[K");
    this.progressShown = false;
  }

  private drawProgress(): void {
    if (!this.opts.live || this.ticker === undefined) return;
    const elapsed = formatDuration(Date.now() - this.startedAt);
    const names = [...this.running].join(", ");
    const text = `[${this.ended}/${this.total}] ${elapsed} ${names === "" ? "waiting" : `running: ${names}`}`;
    // A pseudo-terminal with no size set reports 0 columns.
    const width = process.stdout.columns || 80;
    this.opts.write(`\r\x1b[K${this.c.dim(text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text)}`);
    this.progressShown = true;
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
