/**
 * Every command's registration: its flags, read by FlagReader, then one call
 * into commands/. An action returns an Outcome (exit code or failure); it
 * never throws for a user's mistake.
 */
import { cac, type Command } from "cac";
import { resolve } from "node:path";
import { diffCommand } from "../commands/diff.ts";
import { exportCommand } from "../commands/export.ts";
import { GRAPH_FORMATS, graphCommand } from "../commands/graph.ts";
import { logsCommand } from "../commands/logs.ts";
import { parseAge, pruneCommand } from "../commands/prune.ts";
import { reportCommand } from "../commands/report.ts";
import { resumeCommand, type ResumeFlags } from "../commands/resume.ts";
import { runCommand, type RunFlags } from "../commands/run.ts";
import { RUN_LIST_STATUSES, runsCommand } from "../commands/runs.ts";
import { showCommand } from "../commands/show.ts";
import { validateCommand } from "../commands/validate.ts";
import { verifyCommand } from "../commands/verify.ts";
import { runtimeName } from "../platform/runtime.ts";
import { HumanReporter } from "../report/human.ts";
import { JsonReporter } from "../report/json.ts";
import type { Reporter } from "../report/reporter.ts";
import { trustedStateDir } from "../runs/paths.ts";
import { recoverCommand } from "../commands/recover.ts";
import type { Failure, Outcome } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import { VERSION } from "../version.ts";
import { didYouMean } from "../workflow/suggest.ts";
import { FlagReader, type Io, useColor } from "./flags.ts";

type Flags = Record<string, unknown>;
type Action = () => Promise<Outcome>;

function reporterFor(f: FlagReader, io: Io): Reporter {
  const write = (text: string) => io.out(text);
  if (f.bool("json")) return new JsonReporter(write, io.err);
  const quiet = f.bool("quiet");
  return new HumanReporter({ quiet, color: useColor(io, "stdout"), live: !quiet && io.stdoutIsTTY, write, writeErr: io.err });
}

/** Options `run` and `resume` share: what a failure stops, a deadline, and how the run is reported. */
function withExecutionOptions(command: Command): Command {
  return command
    .option("--keep-going", "After a failure, cancel only the failed task's descendants")
    .option("--timeout <duration>", "Cancel this execution after this long, e.g. 30m")
    .option("--executor <name>", "local or slurm: run tasks here or as Slurm jobs, unless a task's own executor says otherwise")
    .option("--print-output", "Show task output, each line prefixed with its task id")
    .option("--json", "Print one JSON object per event")
    .option("--quiet", "Print only failures and the final line")
    .option("--metrics-file <path>", "Once the run ends, write its outcome to this file for Prometheus (node_exporter's textfile collector)");
}

function executionFlags(f: FlagReader, io: Io): Pick<RunFlags, "keepGoing" | "vars" | "timeoutMs" | "printOutput" | "executor" | "metricsFile"> {
  const timeoutMs = f.duration("timeout", "--timeout");
  const executor = f.text("executor") === undefined ? undefined : f.oneOf("executor", "--executor", ["local", "slurm"] as const, "local");
  const metricsFile = f.text("metricsFile");
  return {
    ...(executor === undefined ? {} : { executor }),
    ...(metricsFile === undefined ? {} : { metricsFile: resolve(io.cwd, metricsFile) }),
    keepGoing: f.bool("keepGoing"),
    vars: f.vars(),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    printOutput: f.bool("printOutput"),
  };
}

/** Where workflow names are looked up: `--workflows-dir`, then `$WF_WORKFLOWS_DIR` (the default, ./workflows, is the loader's). */
function workflowsDirOf(f: FlagReader, io: Io): { workflowsDir?: string } {
  const dir = f.text("workflowsDir") ?? (io.env["WF_WORKFLOWS_DIR"] || undefined);
  return dir === undefined ? {} : { workflowsDir: dir };
}

/** The state directory from `--state-dir` and the environment. */
function stateDirOf(f: FlagReader, io: Io): Result<string, Failure> {
  return trustedStateDir({ flag: f.text("stateDir"), env: io.env });
}

/** Runs `body` unless a flag was bad, with the state directory resolved. */
function withState(f: FlagReader, io: Io, body: (stateDir: string) => Promise<Outcome>): Promise<Outcome> {
  if (f.failure !== undefined) return Promise.resolve(err(f.failure));
  const dir = stateDirOf(f, io);
  return dir.ok ? body(dir.value) : Promise.resolve(dir);
}

/** Fails with the first bad flag, or runs `body`. */
function checked(f: FlagReader, body: () => Promise<Outcome>): Promise<Outcome> {
  return f.failure !== undefined ? Promise.resolve(err(f.failure)) : body();
}

export function buildCli(io: Io, argv: readonly string[]) {
  const cli = cac("wf");
  let action: Action | undefined;
  /** cac calls the matched command's function; it only records what to run. */
  const register = (command: Command, make: (...args: unknown[]) => Action) =>
    command.action((...args: unknown[]) => {
      action = make(...args);
    });

  cli.option("--state-dir <dir>", "Where runs are kept (default: $WF_STATE_DIR, $XDG_STATE_HOME/wf, ~/.local/state/wf)");
  cli.option("--workflows-dir <dir>", "Where workflow names are looked up (default: $WF_WORKFLOWS_DIR or ./workflows)");
  cli.option("--debug", "Show stack traces of errors");

  const run = cli
    .command("run <workflow>", "Run a workflow file, or a workflow by name")
    .option("--sequential", "One task at a time, in a fixed topological order (default)")
    .option("--parallel", "Level by level: a level's tasks at once, the next level when it has ended")
    .option("--work-stealing", "A task starts as soon as its dependencies have ended")
    .option("--max-parallel <n>", "At most this many tasks at once (default: 4)");
  register(
    withExecutionOptions(run)
      .option("--var <name=value>", "Set a variable (repeatable)")
      .option("--dry-run", "Print what would run, and run nothing")
      .option("--exclusive", "Refuse to start while another run of this workflow is active")
      .option("--resume-failed [n]", "Resume this workflow's last run instead, if it failed, was cancelled or was interrupted; with =N, only while it was resumed fewer than N times")
      .example("wf run ci.toml --parallel --var TARGET_ENV=prod"),
    (workflow, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const mode = f.mode();
      const maxParallel = f.wholeNumber("maxParallel", "--max-parallel", 1);
      const resumeFailed = f.optionalWholeNumber("--resume-failed");
      const maxResumes = resumeFailed === true ? undefined : resumeFailed;
      const runFlags: RunFlags = {
        mode: mode ?? "sequential",
        maxParallel: maxParallel ?? 4,
        ...executionFlags(f, io),
        cwd: io.cwd,
        dryRun: f.bool("dryRun"),
        exclusive: f.bool("exclusive"),
        ...(resumeFailed === undefined ? {} : {
          resumeFailed: {
            ...(maxResumes === undefined ? {} : { maxResumes }),
            ...(mode === undefined ? {} : { mode }),
            ...(maxParallel === undefined ? {} : { maxParallel }),
          },
        }),
        ...(f.text("stateDir") === undefined ? {} : { stateDir: f.text("stateDir")! }),
        ...workflowsDirOf(f, io),
      };
      return checked(f, () => runCommand(String(workflow), runFlags, reporterFor(f, io), io));
    },
  );

  const resume = cli
    .command("resume [run]", "Resume a failed, cancelled or interrupted run (default: the most recent one)")
    .option("--sequential", "Run the rest one task at a time")
    .option("--parallel", "Run the rest level by level")
    .option("--work-stealing", "Run the rest as soon as dependencies allow")
    .option("--max-parallel <n>", "At most this many tasks at once (default: the run's)");
  register(
    withExecutionOptions(resume)
      .option("--var <name=value>", "Set a variable; values passed to the original run are not stored (repeatable)")
      .option("--from <task>", "Also re-run this task and all its descendants (repeatable)")
      .option("--rerun <task>", "Run again an attempt of this task whose outcome is lost, although it has resumable = false (repeatable)")
      .option("--dry-run", "Print, for every task, whether it would be skipped or run and why")
      .option("--force", "Resume even though the workflow's structure changed")
      .option("--kill-orphans", "End task processes left running by a killed wf, then resume")
      .option("--file <path>", "Read the workflow from this file instead of the journaled path")
      .option("--workflow <name>", "Without a run id: the most recent resumable run of this workflow")
      .option("--cwd <dir>", "Run the remaining tasks in this directory instead of the one the run used")
      .option("--all-interrupted", "Resume every run whose wf died (after a reboot or a crash), each under its own lock, oldest first")
      .option("--max-runs <n>", "With --all-interrupted: at most this many runs at once (default: 1)")
      .example("wf resume 7fQ2kLx9 --from build"),
    (runId, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const mode = f.mode();
      const maxParallel = f.wholeNumber("maxParallel", "--max-parallel", 1);
      const resumeFlags: ResumeFlags = {
        ...(mode === undefined ? {} : { mode }),
        ...(maxParallel === undefined ? {} : { maxParallel }),
        ...executionFlags(f, io),
        from: f.list("from"),
        rerun: f.list("rerun"),
        dryRun: f.bool("dryRun"),
        force: f.bool("force"),
        killOrphans: f.bool("killOrphans"),
        ...(f.text("file") === undefined ? {} : { file: f.text("file")! }),
        ...(f.text("workflow") === undefined ? {} : { workflow: f.text("workflow")! }),
        ...(f.text("cwd") === undefined ? {} : { cwd: resolve(io.cwd, f.text("cwd")!) }),
        startedIn: io.cwd,
      };
      if (f.bool("allInterrupted")) {
        const maxRuns = f.wholeNumber("maxRuns", "--max-runs", 1) ?? 1;
        const alone = [runId === undefined ? undefined : "run id", ...(["file", "from", "rerun", "cwd"] as const).map((o) => (f.list(o).length > 0 ? `--${o}` : undefined))].find((x) => x !== undefined);
        if (alone !== undefined) return Promise.resolve(err({ kind: "usage", message: `--all-interrupted resumes every interrupted run as it is: it takes no ${alone}` }));
        return withState(f, io, (stateDir) => recoverCommand(stateDir, { ...resumeFlags, maxRuns, json: f.bool("json") }, io));
      }
      if (f.text("maxRuns") !== undefined) return Promise.resolve(err({ kind: "usage", message: "--max-runs goes with --all-interrupted" }));
      return withState(f, io, (stateDir) =>
        resumeCommand(runId === undefined ? undefined : String(runId), stateDir, resumeFlags, reporterFor(f, io), io),
      );
    },
  );

  register(
    cli
      .command("validate <workflow>", "Check a workflow file and report every problem at once")
      .option("--json", "Print the result as JSON")
      .option("--var <name=value>", "A variable that will be passed at run time (repeatable)")
      .example("wf validate ci.toml"),
    (workflow, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const vars = new Set(Object.keys(f.vars()));
      return checked(f, () =>
        validateCommand(String(workflow), {
          json: f.bool("json"),
          vars,
          color: useColor(io, "stderr"),
          ...workflowsDirOf(f, io),
        }, io),
      );
    },
  );

  register(
    cli
      .command("runs", "List runs, newest first")
      .option("--workflow <name>", "Only runs of this workflow")
      .option("--status <status>", "Only runs with this status: running, resuming, success, failed, cancelled, interrupted, unreadable")
      .option("--tag <tag>", "Only runs of workflows with this tag")
      .option("--limit <n>", "Show at most this many runs (default: 20)")
      .option("--json", "Print the list as a JSON array")
      .option("--reindex", "Rebuild the run index from every journal first")
      .example("wf runs --workflow ci --status failed --limit 5"),
    (flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const status = f.text("status") === undefined ? undefined : f.oneOf("status", "--status", RUN_LIST_STATUSES, "running");
      const opts = {
        limit: f.wholeNumber("limit", "--limit", 1) ?? 20,
        ...(f.text("workflow") === undefined ? {} : { workflow: f.text("workflow")! }),
        ...(status === undefined ? {} : { status }),
        ...(f.text("tag") === undefined ? {} : { tag: f.text("tag")! }),
        json: f.bool("json"),
        reindex: f.bool("reindex"),
      };
      return withState(f, io, (stateDir) => runsCommand(stateDir, opts, io));
    },
  );

  register(
    cli
      .command("show <run>", "Show a run: every task's state, attempts, exit codes, durations, variables")
      .option("--json", "Print the run as one JSON object")
      .option("--timeline", "Draw a bar per attempt on a time axis, fitted to the terminal's width")
      .example("wf show 7fQ2"),
    (run, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      return withState(f, io, (stateDir) => showCommand(stateDir, String(run), { json: f.bool("json"), timeline: f.bool("timeline") }, io));
    },
  );

  register(
    cli
      .command("logs <run> [task]", "Print task output, with a header per attempt")
      .option("--attempt <n>", "Only this attempt")
      .option("--tail <n>", "Only the last N lines of each log")
      .option("-f, --follow", "Keep printing while the run is going; stop when it ends")
      .option("--raw", "Print the logs' bytes as they are, control characters included, even to a terminal")
      .example("wf logs 7fQ2 build --attempt 2 --tail 50")
      .example("wf logs -f 7fQ2"),
    (run, task, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const attempt = f.wholeNumber("attempt", "--attempt", 1);
      const tail = f.wholeNumber("tail", "--tail", 0);
      const opts = { ...(attempt === undefined ? {} : { attempt }), ...(tail === undefined ? {} : { tail }), follow: f.bool("follow"), raw: f.bool("raw") };
      return withState(f, io, (stateDir) => logsCommand(stateDir, String(run), task === undefined ? undefined : String(task), opts, io));
    },
  );

  register(
    cli
      .command("graph [workflow]", "Show a workflow's task graph")
      .option("--format <format>", "text, dot, mermaid or json (default: text)")
      .option("--run <id>", "Show that run's task states (the workflow may then be left out)")
      .example("wf graph ci.toml --format dot | dot -Tsvg > ci.svg")
      .example("wf graph --run 7fQ2 --format mermaid"),
    (workflow, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const format = f.oneOf("format", "--format", GRAPH_FORMATS, "text");
      const runId = f.text("run");
      const stateDir = () => stateDirOf(f, io);
      return checked(f, () =>
        graphCommand(workflow === undefined ? undefined : String(workflow), {
          format,
          ...(runId === undefined ? {} : { run: runId }),
          stateDir,
          ...workflowsDirOf(f, io),
          color: useColor(io, "stdout"),
        }, io),
      );
    },
  );

  register(
    cli
      .command("diff <runA> <runB>", "Show what differs between two runs")
      .option("--json", "Print the differences as JSON")
      .example("wf diff 7fQ2 9xK1"),
    (a, b, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      return withState(f, io, (stateDir) => diffCommand(stateDir, String(a), String(b), { json: f.bool("json") }, io));
    },
  );

  register(
    cli
      .command("export <run>", "Export a run as one JSON document, or a tar archive with its logs")
      .option("--format <format>", "json or tar (default: json)")
      .option("-o, --output <file>", "Write to this file instead of stdout")
      .example("wf export 7fQ2 > run.json")
      .example("wf export 7fQ2 --format tar -o run.tar"),
    (run, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const format = f.oneOf("format", "--format", ["json", "tar"] as const, "json");
      const output = f.text("output");
      return withState(f, io, (stateDir) =>
        exportCommand(stateDir, String(run), { format, ...(output === undefined ? {} : { output }), stdoutIsTty: io.stdoutIsTTY }, io),
      );
    },
  );

  register(
    cli
      .command("report <run>", "Write a run as one self-contained HTML page: timeline, graph, attempts, where the time went")
      .option("-o, --output <file>", "Write to this file (default: <run id>.html; - for stdout)")
      .example("wf report 7fQ2 -o incident-4121.html"),
    (run, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const output = f.text("output");
      return withState(f, io, (stateDir) => reportCommand(stateDir, String(run), output === undefined ? {} : { output }, io));
    },
  );

  register(
    cli
      .command("prune", "Delete old runs; never one that is active")
      .option("--older-than <age>", "Only runs started longer ago than this, e.g. 30d, 2w, 12h")
      .option("--keep <n>", "Keep the newest N runs")
      .option("--dry-run", "Print what would be deleted, and delete nothing")
      .option("--include-unreadable", "Also delete runs whose journal cannot be read (kept otherwise)")
      .example("wf prune --older-than 30d --keep 100 --dry-run"),
    (flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      const age = f.text("olderThan");
      const olderThanMs = age === undefined ? undefined : parseAge(age);
      if (age !== undefined && olderThanMs === undefined) {
        return Promise.resolve(err({ kind: "usage", message: `Invalid --older-than "${age}": expected an age such as 30d, 2w, 12h or 1d12h` } as const));
      }
      const keep = f.wholeNumber("keep", "--keep", 0);
      const opts = { ...(olderThanMs === undefined ? {} : { olderThanMs }), ...(keep === undefined ? {} : { keep }), dryRun: f.bool("dryRun"), includeUnreadable: f.bool("includeUnreadable") };
      return withState(f, io, (stateDir) => pruneCommand(stateDir, opts, io));
    },
  );

  register(
    cli
      .command("verify <run>", "Check a journal's integrity and event order, line by line")
      .option("--json", "Print the verdict as JSON")
      .example("wf verify 7fQ2")
      .example("wf verify backup/journal.jsonl"),
    (run, flags) => () => {
      const f = new FlagReader(flags as Flags, argv);
      return checked(f, () => verifyCommand(() => stateDirOf(f, io), String(run), { json: f.bool("json") }, io));
    },
  );

  cli.help();
  cli.version(`${VERSION} (${runtimeName()})`);

  return {
    /** Parses argv; the action to run, or a usage failure. Help and version print here and run nothing. */
    parse(typed: readonly string[]): Result<Action, Failure> {
      const checked = checkArgv(cli, typed);
      if (!checked.ok) return checked;
      const argv = checked.value;
      try {
        cli.parse(["wf", "wf", ...argv], { run: false });
      } catch (e) {
        if (e instanceof Error && e.name === "CACError") return err({ kind: "usage", message: cacMessage(e.message) });
        throw e;
      }
      if (cli.options["help"] || cli.options["version"]) return ok(() => Promise.resolve(ok(0)));
      const command = cli.matchedCommand;
      if (command === undefined) {
        // Bare `wf`: the help, on stdout, and exit 2 (nothing was asked).
        cli.outputHelp();
        return ok(() => Promise.resolve(ok(2)));
      }
      const extra = cli.args.slice(command.args.length);
      if (extra.length > 0 && !command.args.some((a) => a.variadic)) {
        const takes = command.args.length === 0 ? "no arguments" : command.args.map((a) => (a.required ? `<${a.value}>` : `[${a.value}]`)).join(" ");
        return err({ kind: "usage", message: `Unexpected argument "${extra[0]}": "wf ${command.name}" takes ${takes}` });
      }
      try {
        void cli.runMatchedCommand();
      } catch (e) {
        if (e instanceof Error && e.name === "CACError") return err({ kind: "usage", message: cacMessage(e.message) });
        throw e;
      }
      return action === undefined ? err({ kind: "usage", message: 'No command given: run "wf --help" for the list' }) : ok(action);
    },
  };
}

/**
 * Long and short names of an option (`--max-parallel`, `-o`), and whether it takes a value:
 * `<value>` does; `[value]` takes one only as `--option=value`, so `--resume-failed ci.toml`
 * leaves the workflow alone.
 */
function optionNames(options: readonly { rawName: string; required?: boolean; isBoolean?: boolean }[]): Map<string, boolean | "optional"> {
  const names = new Map<string, boolean | "optional">();
  for (const o of options) {
    const takesValue = /</.test(o.rawName) ? true : /\[/.test(o.rawName) ? "optional" : false;
    for (const part of o.rawName.split(/[ ,]+/)) if (part.startsWith("-")) names.set(part, takesValue);
  }
  return names;
}

/** The long name of each one-letter alias: `-o` is `--output`. */
function longNames(options: readonly { rawName: string }[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const o of options) {
    const parts = o.rawName.split(/[ ,]+/).filter((p) => p.startsWith("-"));
    const long = parts.find((p) => p.startsWith("--"));
    if (long !== undefined) for (const p of parts) if (!p.startsWith("--")) names.set(p, long);
  }
  return names;
}

/**
 * What cac lets through silently, checked on the command line as typed: an
 * unknown option before the command, an unknown command (with a suggestion),
 * `--version` after a command, and `help [command]`. Returns argv with each
 * `--option value` written `--option=value`, so a value such as `-1` is not
 * taken for an option.
 */
function checkArgv(cli: ReturnType<typeof cac>, typed: readonly string[]): Result<string[], Failure> {
  const usage = (message: string): Result<never, Failure> => err({ kind: "usage", message });
  let argv = [...typed];
  if (argv[0] === "help") {
    const topic = argv[1];
    argv = topic !== undefined && !topic.startsWith("-") ? [topic, "--help", ...argv.slice(2)] : ["--help", ...argv.slice(1)];
  }
  const global = optionNames(cli.globalCommand.options);
  const commands = new Map(cli.commands.map((c) => [c.name, c]));
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "--") return usage('No command given before "--": run "wf --help" for the list');
    const name = arg.split("=")[0]!;
    const takesValue = global.get(name);
    if (takesValue === undefined) {
      return usage(`Unknown option "${name}"${didYouMean(name, [...global.keys()].filter((n) => n.startsWith("--")))}: run "wf --help" for usage`);
    }
    if (takesValue === true && !arg.includes("=")) i++;
  }
  const commandName = argv[i];
  if (commandName === undefined) return ok(argv);
  const command = commands.get(commandName);
  if (command === undefined) {
    return usage(`Unknown command "${commandName}"${didYouMean(commandName, commands.keys())}: run "wf --help" for the list`);
  }
  const options = new Map([...global, ...optionNames(command.options)]);
  const out = argv.slice(0, i + 1);
  // Options that take no value go last: cac would take the word after `--dry-run` for its value,
  // so `wf resume --dry-run RUN` would resume the latest run, for real.
  const switches: string[] = [];
  let rest: string[] = [];
  for (let j = i + 1; j < argv.length; j++) {
    const arg = argv[j]!;
    if (arg === "--") {
      rest = argv.slice(j);
      break;
    }
    if (arg === "--version" || arg === "-v") {
      return usage(`Option "${arg}" is not one of "wf ${commandName}": run "wf --version" alone for the version`);
    }
    const name = arg.split("=")[0]!;
    // Checked here, as typed: cac would name "--resume-failed" "--resumeFailed".
    if (/^--?[A-Za-z]/.test(arg) && !options.has(name)) {
      const longs = [...options.keys()].filter((n) => n.startsWith("--"));
      return usage(`Unknown option "${name}" for "wf ${commandName}"${didYouMean(name, longs)}: run "wf ${commandName} --help" for usage`);
    }
    if (arg.startsWith("--") && options.get(arg) === false) {
      switches.push(arg);
      continue;
    }
    if (arg.startsWith("-") && options.get(arg) === "optional") {
      // Bare: given a value, so that cac does not take the next word for it (FlagReader.optionalWholeNumber reads the real one).
      out.push(`${arg}=true`);
      continue;
    }
    if (arg.startsWith("-") && options.get(arg) === true && j + 1 < argv.length) {
      // A one-letter alias is written as its long name, so its value may be "-" (`-o -`: stdout).
      out.push(`${arg.startsWith("--") ? arg : (longNames(command.options).get(arg) ?? arg)}=${argv[j + 1]}`);
      j++;
      continue;
    }
    out.push(arg);
  }
  return ok([...out, ...switches, ...rest]);
}

/** cac's own messages, in our sentence style. */
function cacMessage(message: string): string {
  const text = message.replace(/`/g, '"');
  return `${text[0]!.toUpperCase()}${text.slice(1)}: run "wf --help" for usage`;
}
