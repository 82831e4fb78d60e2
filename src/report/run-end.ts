/**
 * The reporter of one run among many (`wf resume --all-interrupted`): the
 * run's own lines are not printed, only kept to tell how it ended; warnings go
 * to stderr, prefixed with the run's id so that runs side by side can be told
 * apart.
 */
import type { JournalRecord } from "../journal/events.ts";
import type { Io } from "../platform/io.ts";
import type { Failure } from "../util/failure.ts";
import { describeFailure } from "./failure.ts";
import { inert } from "./inert.ts";
import type { Reporter } from "./reporter.ts";

export class RunEndReporter implements Reporter {
  /** The run's final status line, once it came. */
  end: { readonly status: "success" | "failed" | "cancelled"; readonly reason?: string } | undefined;
  private startedAt: number | undefined;
  private endedAt: number | undefined;

  constructor(
    private readonly runId: string,
    private readonly io: Pick<Io, "err">,
  ) {}

  record(r: JournalRecord): void {
    if (r.type !== "run_status") return;
    if (r.status === "resuming") this.startedAt = Date.parse(r.ts);
    if (r.status === "success" || r.status === "failed" || r.status === "cancelled") {
      this.end = { status: r.status, ...(r.reason === undefined ? {} : { reason: r.reason }) };
      this.endedAt = Date.parse(r.ts);
    }
  }

  output(): void {}

  warn(message: string): void {
    this.io.err(`warning: [${this.runId}] ${inert(message)}\n`);
  }

  problem(failure: Failure): void {
    this.warn(describeFailure(failure));
  }

  close(): void {}

  /** How long this execution took, from its `resuming` line to its final status. */
  elapsedMs(): number {
    return this.startedAt === undefined || this.endedAt === undefined ? 0 : Math.max(0, this.endedAt - this.startedAt);
  }
}
