/**
 * What the engine reports to: the records it made durable, task output lines
 * for `--print-output`, and warnings. The command wires a reporter from
 * report/ (human, json, quiet) into it; the engine never knows which.
 */
import type { JournalRecord } from "../journal/events.ts";
import type { Failure } from "../util/failure.ts";

export interface EventSink {
  /** A record that is now on disk. */
  record(record: JournalRecord): void;
  /** One line of a task's output (only with `--print-output`). */
  output(task: string, stream: "stdout" | "stderr", line: string): void;
  /** A warning that is not an event, e.g. a variable only `--var` can provide. */
  warn(message: string): void;
  /** A failure that does not stop the run (a log that cannot be written): shown as a warning, phrased by report/. */
  problem(failure: Failure): void;
  /** Stops any live display; called once at the end. */
  close(): void;
}
