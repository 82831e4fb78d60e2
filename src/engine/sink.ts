/**
 * What the engine reports to: the records it made durable, task output lines
 * for `--print-output`, and warnings. The command wires a reporter from
 * report/ (human, json, quiet) into it; the engine never knows which.
 */
import type { JournalRecord } from "../journal/events.ts";

export interface EventSink {
  /** A record that is now on disk. */
  record(record: JournalRecord): void;
  /** One line of a task's output (only with `--print-output`). */
  output(task: string, stream: "stdout" | "stderr", line: string): void;
  /** A warning that is not an event, e.g. a variable only `--var` can provide. */
  warn(message: string): void;
  /** Stops any live display; called once at the end. */
  close(): void;
}
