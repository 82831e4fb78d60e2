/**
 * Wiring only: parse argv, run the command, render an expected failure as one
 * sentence (report/failure.ts) and pick the exit code (docs/errors.md). A
 * throw that reaches this file is a bug, and only a bug prints
 * "Internal error". Every sentence is made inert on its way out: it may
 * quote a task's error, a name or a path (report/inert.ts).
 */
import { formatDiagnostics } from "../report/diagnostics.ts";
import { describeFailure } from "../report/failure.ts";
import { inert } from "../report/inert.ts";
import { exitCodeOf, type Failure } from "../util/failure.ts";
import { buildCli } from "./commands.ts";
import { type Io, processIo, useColor } from "../platform/io.ts";

let defaultIo: Io | undefined;

/** Prints a failure: the located problems of a workflow first, then its one sentence. */
export function printFailure(failure: Failure, io: Io): number {
  if (failure.kind === "invalid-workflow") {
    const errors = failure.diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0) io.err(formatDiagnostics(errors, failure.sources, useColor(io, "stderr")));
  }
  io.err(`${inert(describeFailure(failure))}\n`);
  return exitCodeOf(failure);
}

/** Runs the CLI and returns the exit code, picked once its output has been written; only a bug escapes as a throw. */
export async function main(argv: readonly string[], io: Io = (defaultIo ??= processIo())): Promise<number> {
  return settle(await run(argv, io), io);
}

/**
 * The exit code once stdout and stderr are flushed: a write that failed (a full
 * disk, where Node reports it after the command returned) ends in its one
 * sentence and exit 1, or the command's own code if it failed already.
 */
async function settle(code: number, io: Io): Promise<number> {
  const failed = await io.flush?.();
  if (failed === undefined) return code;
  if (failed.kind === "output" && failed.stream === "stdout") {
    io.err(`${inert(describeFailure(failed))}\n`);
    await io.flush?.();
  }
  return code === 0 ? exitCodeOf(failed) : code;
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    const parsed = buildCli(io, argv).parse(argv);
    if (!parsed.ok) return printFailure(parsed.error, io);
    const outcome = await parsed.value();
    return outcome.ok ? outcome.value : printFailure(outcome.error, io);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    io.err(`${inert(message.startsWith("Internal error") ? message : `Internal error: ${message}`)}\n`);
    if (debug && e instanceof Error) io.err(`${inert(e.stack ?? "")}\n`);
    else io.err("Run again with --debug for a stack trace, and please report it\n");
    return 1;
  }
}
