/**
 * Wiring only: parse argv, call the command, print expected errors as one
 * sentence, and pick the exit code (SPEC section 6).
 */
import { cac, type Command } from "cac";
import process from "node:process";
import { addInspectionCommands } from "./inspect.ts";
import { resumeCommand, type ResumeFlags } from "../commands/resume.ts";
import { runCommand, type RunFlags } from "../commands/run.ts";
import { validateCommand } from "../commands/validate.ts";
import { MODES, type Mode } from "../journal/events.ts";
import { JournalWriteError } from "../journal/writer.ts";
import { formatDiagnostics } from "../report/diagnostics.ts";
import { HumanReporter } from "../report/human.ts";
import { JsonReporter } from "../report/json.ts";
import type { Reporter } from "../report/reporter.ts";
import { runtimeName } from "../platform/runtime.ts";
import { WfError } from "../util/result.ts";
import { VERSION } from "../version.ts";
import { parseDuration } from "../workflow/duration.ts";

/**
 * A closed pipe (`wf run ... | head -1`) must not stop a run: the journal,
 * not the terminal, is the record, so output that cannot be shown is dropped.
 */
let stdoutOpen = true;
let stderrOpen = true;
process.stdout.on("error", () => (stdoutOpen = false));
process.stderr.on("error", () => (stderrOpen = false));
const write = (text: string) => void (stdoutOpen && process.stdout.write(text));
const writeErr = (text: string) => void (stderrOpen && process.stderr.write(text));

/** Colour only on a terminal, and never with NO_COLOR or TERM=dumb. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env["NO_COLOR"] && process.env["TERM"] !== "dumb";
}

function usage(message: string): WfError {
  return new WfError(message, 2);
}

/** `--var K=V`, repeatable. */
export function parseVars(raw: unknown): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const text of list(raw)) {
    const eq = text.indexOf("=");
    const name = text.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw usage(`Invalid --var "${text}": expected NAME=VALUE with a name made of letters, digits and "_"`);
    }
    vars[name] = text.slice(eq + 1);
  }
  return vars;
}

/** The mode flag given, if any. */
function parseMode(flags: Record<string, unknown>): Mode | undefined {
  const chosen = MODES.filter((m) => flags[m === "work-stealing" ? "workStealing" : m] === true);
  if (chosen.length > 1) throw usage(`Choose one mode: ${chosen.map((m) => `--${m}`).join(" and ")} were both given`);
  return chosen[0];
}

function list(raw: unknown): string[] {
  return raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);
}

function parsePositiveInt(name: string, raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw usage(`Invalid ${name} "${String(raw)}": expected a whole number of at least 1`);
  return n;
}

function parseTimeout(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const ms = parseDuration(String(raw));
  if (ms === undefined || ms <= 0) throw usage(`Invalid --timeout "${String(raw)}": expected a duration such as 90s, 10m or 1h30m`);
  return ms;
}

function reporterFor(flags: Record<string, unknown>): Reporter {
  if (flags["json"] === true) return new JsonReporter(write, writeErr);
  const quiet = flags["quiet"] === true;
  return new HumanReporter({
    quiet,
    color: useColor(process.stdout),
    live: !quiet && process.stdout.isTTY === true,
    write,
    writeErr,
  });
}

/** Options `run` and `resume` share: what a failure stops, a deadline, and how the run is reported. */
function withExecutionOptions(command: Command): Command {
  return command
    .option("--keep-going", "After a failure, cancel only the failed task's descendants")
    .option("--timeout <duration>", "Cancel this execution after this long, e.g. 30m")
    .option("--print-output", "Show task output, each line prefixed with its task id")
    .option("--json", "Print one JSON object per event")
    .option("--quiet", "Print only failures and the final line");
}

function executionFlags(flags: Record<string, unknown>): Pick<RunFlags, "keepGoing" | "vars" | "timeoutMs" | "printOutput"> {
  const timeoutMs = parseTimeout(flags["timeout"]);
  return {
    keepGoing: flags["keepGoing"] === true,
    vars: parseVars(flags["var"]),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    printOutput: flags["printOutput"] === true,
  };
}

function buildCli() {
  const cli = cac("wf");
  cli.option("--state-dir <dir>", "Where runs are kept (default: $WF_STATE_DIR, $XDG_STATE_HOME/wf, ~/.local/state/wf)");
  cli.option("--workflows-dir <dir>", "Where workflow names are looked up (default: $WF_WORKFLOWS_DIR or ./workflows)");
  cli.option("--debug", "Show stack traces of errors");

  const run = cli
    .command("run <workflow>", "Run a workflow file, or a workflow by name")
    .option("--sequential", "One task at a time, in a fixed topological order (default)")
    .option("--parallel", "Level by level: a level's tasks at once, the next level when it has ended")
    .option("--work-stealing", "A task starts as soon as its dependencies have ended")
    .option("--max-parallel <n>", "At most this many tasks at once (default: 4)");
  withExecutionOptions(run)
    .option("--var <name=value>", "Set a variable (repeatable)")
    .option("--dry-run", "Print what would run, and run nothing")
    .option("--exclusive", "Refuse to start while another run of this workflow is active")
    .example("wf run ci.toml --parallel --var TARGET_ENV=prod")
    .action(async (workflow: string, flags: Record<string, unknown>) => {
      const runFlags: RunFlags = {
        mode: parseMode(flags) ?? "sequential",
        maxParallel: parsePositiveInt("--max-parallel", flags["maxParallel"], 4),
        ...executionFlags(flags),
        dryRun: flags["dryRun"] === true,
        exclusive: flags["exclusive"] === true,
        ...(typeof flags["stateDir"] === "string" ? { stateDir: flags["stateDir"] } : {}),
        ...(typeof flags["workflowsDir"] === "string" ? { workflowsDir: flags["workflowsDir"] } : {}),
      };
      return runCommand(workflow, runFlags, reporterFor(flags), write);
    });

  const resume = cli
    .command("resume [run]", "Resume a failed, cancelled or interrupted run (default: the most recent one)")
    .option("--sequential", "Run the rest one task at a time")
    .option("--parallel", "Run the rest level by level")
    .option("--work-stealing", "Run the rest as soon as dependencies allow")
    .option("--max-parallel <n>", "At most this many tasks at once (default: the run's)");
  withExecutionOptions(resume)
    .option("--var <name=value>", "Set a variable; values passed to the original run are not stored (repeatable)")
    .option("--from <task>", "Also re-run this task and all its descendants (repeatable)")
    .option("--dry-run", "Print, for every task, whether it would be skipped or run and why")
    .option("--force", "Resume even though the workflow's structure changed")
    .option("--kill-orphans", "End task processes left running by a killed wf, then resume")
    .option("--file <path>", "Read the workflow from this file instead of the journaled path")
    .option("--workflow <name>", "Without a run id: the most recent resumable run of this workflow")
    .example("wf resume 7fQ2kLx9 --from build")
    .action(async (runId: string | undefined, flags: Record<string, unknown>) => {
      const mode = parseMode(flags);
      const maxParallel = flags["maxParallel"] === undefined ? undefined : parsePositiveInt("--max-parallel", flags["maxParallel"], 4);
      const resumeFlags: ResumeFlags = {
        ...(mode === undefined ? {} : { mode }),
        ...(maxParallel === undefined ? {} : { maxParallel }),
        ...executionFlags(flags),
        from: list(flags["from"]),
        dryRun: flags["dryRun"] === true,
        force: flags["force"] === true,
        killOrphans: flags["killOrphans"] === true,
        ...(typeof flags["file"] === "string" ? { file: flags["file"] } : {}),
        ...(typeof flags["workflow"] === "string" ? { workflow: flags["workflow"] } : {}),
        ...(typeof flags["stateDir"] === "string" ? { stateDir: flags["stateDir"] } : {}),
      };
      return resumeCommand(runId, resumeFlags, reporterFor(flags), write);
    });

  cli
    .command("validate <workflow>", "Check a workflow file and report every problem at once")
    .option("--json", "Print the result as JSON")
    .option("--var <name=value>", "A variable that will be passed at run time (repeatable)")
    .example("wf validate ci.toml")
    .action(async (workflow: string, flags: Record<string, unknown>) =>
      validateCommand(workflow, {
        json: flags["json"] === true,
        vars: new Set(Object.keys(parseVars(flags["var"]))),
        color: useColor(process.stderr),
        ...(typeof flags["workflowsDir"] === "string" ? { workflowsDir: flags["workflowsDir"] } : {}),
      }, write, writeErr),
    );

  addInspectionCommands(cli);

  cli.help();
  cli.version(`${VERSION} (${runtimeName()})`);
  return cli;
}

/** Runs the CLI and returns the exit code; only a bug escapes as a throw. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug");
  try {
    const cli = buildCli();
    cli.parse(["wf", "wf", ...argv], { run: false });
    if (cli.options["help"] || cli.options["version"]) return 0;
    if (cli.matchedCommand === undefined) {
      if (cli.args.length > 0) throw usage(`Unknown command "${cli.args[0]}": run "wf --help" for the list`);
      cli.outputHelp();
      return 2;
    }
    const code: unknown = await cli.runMatchedCommand();
    return typeof code === "number" ? code : 0;
  } catch (e) {
    if (e instanceof WfError) {
      if (e.diagnostics.length > 0) writeErr(formatDiagnostics([...e.diagnostics], e.sources, useColor(process.stderr)));
      writeErr(`${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof JournalWriteError) {
      writeErr(`${e.message}\n`);
      return 1;
    }
    if (e instanceof Error && e.name === "CACError") {
      const text = e.message.replace(/`/g, '"');
      writeErr(`${text[0]!.toUpperCase()}${text.slice(1)}: run "wf --help" for usage\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    writeErr(`${message.startsWith("Internal error") ? message : `Internal error: ${message}`}\n`);
    if (debug && e instanceof Error) writeErr(`${e.stack}\n`);
    else writeErr('Run again with --debug for a stack trace, and please report it\n');
    return 1;
  }
}
