/** Builds small journals in memory for the pure tests. */
import { encodeLine } from "../../../src/journal/line.ts";
import type { Event } from "../../../src/journal/events.ts";

export const RUN = "7fQ2kLx9ab";

export const EVENTS: Event[] = [
  { type: "header", format: 1, writer: "wf 0.1.0 (node 20.0.0)" },
  { type: "run_status", status: "running" },
  { type: "task_started", task: "lint", attempt: 1, max_attempts: 1, cmd: "echo hé", stdout_log: "logs/lint.1.stdout.log", stderr_log: "logs/lint.1.stderr.log" },
  { type: "var_registered", name: "version", value: "v1.2.3", task: "lint" },
  { type: "run_status", status: "success" },
];

/** The lines of a journal of `events`, seq from 0. */
export function lines(events: readonly Event[] = EVENTS, run = RUN): string[] {
  return events.map((e, seq) => encodeLine({ seq, ts: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(), run }, e));
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
