import type { JournalRecord } from "../journal/events.ts";
import type { Reporter } from "./reporter.ts";
import { describeFailure } from "./failure.ts";
import type { Failure } from "../util/failure.ts";
import { inert, jsonText } from "./inert.ts";

/**
 * `--json`: every durable record as one JSON object per line on stdout; warnings and task output go to
 * stderr, made inert as every human output is.
 */
export class JsonReporter implements Reporter {
  constructor(
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  record(record: JournalRecord): void {
    this.out(`${jsonText(record)}\n`);
  }

  output(task: string, _stream: "stdout" | "stderr", line: string): void {
    this.err(`[${inert(task)}] ${inert(line)}\n`);
  }

  problem(failure: Failure): void {
    this.warn(describeFailure(failure));
  }

  warn(message: string): void {
    this.err(`warning: ${inert(message)}\n`);
  }

  close(): void {}
}
