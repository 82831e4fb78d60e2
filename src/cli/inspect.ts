/** Registers the read-only inspection commands (runs, show, logs, graph, diff, export, prune, verify) on the CLI. */
import type { CAC } from "cac";
import process from "node:process";
import { stateDirFrom } from "../commands/lookup.ts";
import { WfError } from "../util/result.ts";
import { diffCommand } from "../commands/diff.ts";
import { exportCommand } from "../commands/export.ts";
import { graphCommand } from "../commands/graph.ts";
import { logsCommand } from "../commands/logs.ts";
import { parseAge, pruneCommand } from "../commands/prune.ts";
import { runsCommand } from "../commands/runs.ts";
import { showCommand } from "../commands/show.ts";
import { verifyCommand } from "../commands/verify.ts";

type Flags = Record<string, unknown>;

const write = (text: string | Uint8Array) => void process.stdout.write(text);

/** A flag's one value as text: cac gives numbers for numeric text and an array when repeated (the last wins). */
function text(flags: Flags, name: string): string | undefined {
  const raw = flags[name];
  const last = Array.isArray(raw) ? raw.at(-1) : raw;
  if (last === undefined || last === true || last === false) return undefined;
  return String(last);
}

function wholeNumber(flags: Flags, name: string, option: string, min: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const value = text(flags, name);
  const n = Number(value);
  if (value === undefined || value.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new WfError(`Invalid ${option} "${value ?? ""}": expected a whole number of at least ${min}`, 2);
  }
  return n;
}

function colorOut(): boolean {
  return process.stdout.isTTY === true && !process.env["NO_COLOR"] && process.env["TERM"] !== "dumb";
}

export function addInspectionCommands(cli: CAC): void {
  cli
    .command("runs", "List runs, newest first")
    .option("--workflow <name>", "Only runs of this workflow")
    .option("--status <status>", "Only runs with this status: running, resuming, success, failed, cancelled, interrupted, unreadable")
    .option("--tag <tag>", "Only runs of workflows with this tag")
    .option("--limit <n>", "Show at most this many runs (default: 20)")
    .option("--json", "Print the list as a JSON array")
    .option("--reindex", "Rebuild the run index from every journal first")
    .example("wf runs --workflow ci --status failed --limit 5")
    .action((flags: Flags) =>
      runsCommand(stateDirFrom(flags["stateDir"]), {
        limit: wholeNumber(flags, "limit", "--limit", 1) ?? 20,
        ...(text(flags, "workflow") === undefined ? {} : { workflow: text(flags, "workflow")! }),
        ...(text(flags, "status") === undefined ? {} : { status: text(flags, "status")! }),
        ...(text(flags, "tag") === undefined ? {} : { tag: text(flags, "tag")! }),
        json: flags["json"] === true,
        reindex: flags["reindex"] === true,
      }, write),
    );

  cli
    .command("show <run>", "Show a run: every task's state, attempts, exit codes, durations, variables")
    .option("--json", "Print the run as one JSON object")
    .example("wf show 7fQ2")
    .action((run: string, flags: Flags) => showCommand(stateDirFrom(flags["stateDir"]), String(run), { json: flags["json"] === true }, write));

  cli
    .command("logs <run> [task]", "Print task output, with a header per attempt")
    .option("--attempt <n>", "Only this attempt")
    .option("--tail <n>", "Only the last N lines of each log")
    .option("-f, --follow", "Keep printing while the run is going; stop when it ends")
    .example("wf logs 7fQ2 build --attempt 2 --tail 50")
    .example("wf logs -f 7fQ2")
    .action((run: string, task: string | undefined, flags: Flags) => {
      const attempt = wholeNumber(flags, "attempt", "--attempt", 1);
      const tail = wholeNumber(flags, "tail", "--tail", 0);
      return logsCommand(stateDirFrom(flags["stateDir"]), String(run), task === undefined ? undefined : String(task), {
        ...(attempt === undefined ? {} : { attempt }),
        ...(tail === undefined ? {} : { tail }),
        follow: flags["follow"] === true,
      }, write);
    });

  cli
    .command("graph [workflow]", "Show a workflow's task graph")
    .option("--format <format>", "text, dot, mermaid or json (default: text)")
    .option("--run <id>", "Show that run's task states (the workflow may then be left out)")
    .example("wf graph ci.toml --format dot | dot -Tsvg > ci.svg")
    .example("wf graph --run 7fQ2 --format mermaid")
    .action((workflow: string | undefined, flags: Flags) =>
      graphCommand(workflow === undefined ? undefined : String(workflow), {
        format: text(flags, "format") ?? "text",
        ...(text(flags, "run") === undefined ? {} : { run: text(flags, "run")! }),
        stateDir: () => stateDirFrom(flags["stateDir"]),
        ...(text(flags, "workflowsDir") === undefined ? {} : { workflowsDir: text(flags, "workflowsDir")! }),
        color: colorOut(),
      }, write),
    );

  cli
    .command("diff <runA> <runB>", "Show what differs between two runs")
    .option("--json", "Print the differences as JSON")
    .example("wf diff 7fQ2 9xK1")
    .action((a: string, b: string, flags: Flags) => diffCommand(stateDirFrom(flags["stateDir"]), String(a), String(b), { json: flags["json"] === true }, write));

  cli
    .command("export <run>", "Export a run as one JSON document, or a tar archive with its logs")
    .option("--format <format>", "json or tar (default: json)")
    .option("-o, --output <file>", "Write to this file instead of stdout")
    .example("wf export 7fQ2 > run.json")
    .example("wf export 7fQ2 --format tar -o run.tar")
    .action((run: string, flags: Flags) =>
      exportCommand(stateDirFrom(flags["stateDir"]), String(run), {
        format: text(flags, "format") ?? "json",
        ...(text(flags, "output") === undefined ? {} : { output: text(flags, "output")! }),
        stdoutIsTty: process.stdout.isTTY === true,
      }, write),
    );

  cli
    .command("prune", "Delete old runs; never one that is active")
    .option("--older-than <age>", "Only runs started longer ago than this, e.g. 30d, 2w, 12h")
    .option("--keep <n>", "Keep the newest N runs")
    .option("--dry-run", "Print what would be deleted, and delete nothing")
    .example("wf prune --older-than 30d --keep 100 --dry-run")
    .action((flags: Flags) => {
      const age = text(flags, "olderThan");
      const olderThanMs = age === undefined ? undefined : parseAge(age);
      if (age !== undefined && olderThanMs === undefined) {
        throw new WfError(`Invalid --older-than "${age}": expected an age such as 30d, 2w, 12h or 1d12h`, 2);
      }
      const keep = wholeNumber(flags, "keep", "--keep", 0);
      return pruneCommand(stateDirFrom(flags["stateDir"]), {
        ...(olderThanMs === undefined ? {} : { olderThanMs }),
        ...(keep === undefined ? {} : { keep }),
        dryRun: flags["dryRun"] === true,
      }, write);
    });

  cli
    .command("verify <run>", "Check a journal's integrity and event order, line by line")
    .option("--json", "Print the verdict as JSON")
    .example("wf verify 7fQ2")
    .example("wf verify backup/journal.jsonl")
    .action((run: string, flags: Flags) => verifyCommand(() => stateDirFrom(flags["stateDir"]), String(run), { json: flags["json"] === true }, write));
}
