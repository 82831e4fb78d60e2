import type { JournalRecord } from "../journal/events.ts";
import type { Reporter } from "./reporter.ts";

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

  warn(message: string): void {
    this.err(`warning: ${message}\n`);
  }

  close(): void {}
}
