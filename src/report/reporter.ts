/**
 * Reporters are the only code that writes to the terminal. They consume the
 * same records the journal holds, after those are durable, plus task output
 * lines for `--print-output`.
 */
import type { JournalRecord } from "../journal/events.ts";

export interface Reporter {
  /** A record that is now on disk. */
  record(record: JournalRecord): void;
  /** One line of a task's output (only with `--print-output`). */
  output(task: string, stream: "stdout" | "stderr", line: string): void;
  /** A warning that is not an event, e.g. a variable only `--var` can provide. */
  warn(message: string): void;
  /** Stops any live display; called once at the end. */
  close(): void;
}
