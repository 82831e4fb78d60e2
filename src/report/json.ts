import type { JournalRecord } from "../journal/events.ts";
import type { Reporter } from "./reporter.ts";
import { describeFailure } from "./failure.ts";
import type { Failure } from "../util/failure.ts";

/** `--json`: every durable record as one JSON object per line on stdout; warnings and task output go to stderr. */
export class JsonReporter implements Reporter {
  constructor(
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  record(record: JournalRecord): void {
    this.out(`${JSON.stringify(record)}\n`);
  }

  output(task: string, _stream: "stdout" | "stderr", line: string): void {
    this.err(`[${task}] ${line}\n`);
  }

  problem(failure: Failure): void {
    this.warn(describeFailure(failure));
  }

  warn(message: string): void {
    this.err(`warning: ${message}\n`);
  }

  close(): void {}
}
