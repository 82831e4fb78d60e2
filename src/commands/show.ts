/** `wf show <run>`: the run graph with every task's state, attempts, exit codes, durations, variables and resumes. */
import process from "node:process";
import type { AttemptState, TaskFold } from "../journal/fold.ts";
import type { Io } from "../platform/io.ts";
import { runDurationMs } from "../runs/list.ts";
import { openRun, type RunSummary } from "../runs/open.ts";
import { err, ok } from "../util/result.ts";
import type { Outcome } from "../util/failure.ts";
import { warnDamage } from "../report/failure.ts";
import { failureSummary } from "../report/human.ts";
import { formatMs, formatTime, renderTable } from "../report/table.ts";
import { TimelineBuilder } from "../report/timeline.ts";
import { formatTimeline } from "../report/timeline-text.ts";
import { inert, jsonText } from "../report/inert.ts";

export async function showCommand(stateDir: string, prefix: string, opts: { json: boolean; timeline?: boolean }, io: Io): Promise<Outcome> {
  if (opts.json && opts.timeline === true) return err({ kind: "usage", message: "Choose one of --json and --timeline: both were given" });
  if (opts.timeline === true) {
    const builder = new TimelineBuilder();
    const opened = await openRun(stateDir, prefix, "show", { keepRecords: false, intactPrefix: true, onRecord: (r) => builder.add(r) });
    if (!opened.ok) return opened;
    warnDamage(opened.value, io);
    const run = opened.value;
    const timeline = builder.finish({ live: run.live, now: Date.now() });
    io.out(inert(formatTimeline(timeline, { runId: run.id, workflow: run.state.started.workflow, status: run.state.status }, terminalWidth(io))));
    return ok(0);
  }
  if (opts.json) {
    // The state is all --json prints: fold while reading, keep no record.
    const opened = await openRun(stateDir, prefix, "show", { keepRecords: false, intactPrefix: true });
    if (!opened.ok) return opened;
    warnDamage(opened.value, io);
    writeRunStateJson(opened.value, io.out);
    return ok(0);
  }
  const opened = await openRun(stateDir, prefix, "show", { keepRecords: false, intactPrefix: true });
  if (!opened.ok) return opened;
  warnDamage(opened.value, io);
  // Names, errors, output tails and values come from the journal: shown inert.
  io.out(inert(formatShow(opened.value)));
  return ok(0);
}

/** Columns to fit: $COLUMNS when set, the terminal's width on a terminal, else 80. */
function terminalWidth(io: Io): number {
  const columns = Number(io.env["COLUMNS"]);
  if (Number.isSafeInteger(columns) && columns > 0) return columns;
  // A pseudo-terminal with no size set reports 0 columns.
  return io.stdoutIsTTY ? process.stdout.columns || 80 : 80;
}

type AttemptOutcome = "succeeded" | "failed" | "running" | "interrupted";

function attemptOutcome(a: AttemptState, run: RunSummary, last: boolean): AttemptOutcome {
  if (a.finished !== undefined) return a.finished.state;
  return last && run.live && run.state.endedAt === undefined ? "running" : "interrupted";
}

function attemptMs(a: AttemptState, outcome: AttemptOutcome, now = Date.now()): number | null {
  if (a.finished !== undefined) return a.finished.duration_ms;
  return outcome === "running" ? Math.max(0, now - Date.parse(a.startedAt)) : null;
}

function attemptJson(a: AttemptState, run: RunSummary, last: boolean): Record<string, unknown> {
  const outcome = attemptOutcome(a, run, last);
  const f = a.finished;
  return {
    attempt: a.attempt,
    state: outcome,
    started_at: a.startedAt,
    finished_at: a.finishedAt ?? null,
    duration_ms: attemptMs(a, outcome),
    exit_code: f?.exit_code ?? null,
    signal: f?.signal ?? null,
    timed_out: f?.timed_out ?? false,
    cmd: a.cmd,
    pid: a.pid ?? null,
    stdout_log: a.stdoutLog,
    stderr_log: a.stderrLog,
    ...(f?.error === undefined ? {} : { error: f.error }),
    ...(f?.log_truncated === true ? { log_truncated: true } : {}),
  };
}

type StartedNode = RunSummary["state"]["started"]["nodes"][number];

function taskJson(t: TaskFold, run: RunSummary, nodes: ReadonlyMap<string, StartedNode>): Record<string, unknown> {
  const node = nodes.get(t.id);
  return {
    id: t.id,
    task: node?.task ?? t.id,
    deps: node?.deps ?? [],
    state: t.state,
    reason: t.reason ?? null,
    ignored: t.ignored,
    attempts: t.attempts.map((a, i) => attemptJson(a, run, i === t.attempts.length - 1)),
  };
}

/** The `--json` shape of `wf show`, also the `run` member of `wf export` (documented in docs/commands.md). */
export function runStateJson(run: RunSummary): Record<string, unknown> {
  const nodes = nodeTable(run);
  return runJson(run, [...run.state.tasks.values()].map((t) => taskJson(t, run, nodes)));
}

/** One lookup table, not a search per task: a run may have tens of thousands. */
function nodeTable(run: RunSummary): Map<string, StartedNode> {
  return new Map(run.state.started.nodes.map((n) => [n.id, n]));
}

function runJson(run: RunSummary, tasks: unknown[]): Record<string, unknown> {
  const s = run.state;
  return {
    id: run.id,
    workflow: s.started.workflow,
    file: s.started.file,
    file_sha256: s.started.file_sha256,
    cwd: s.cwd ?? null,
    tags: s.started.tags,
    status: s.status,
    live: run.live,
    started_at: s.startedAt,
    ended_at: s.endedAt ?? null,
    duration_ms: runDurationMs(s, run.live),
    mode: s.mode,
    max_parallel: s.maxParallel,
    resumes: s.resumes,
    statuses: s.statuses.map((x) => ({ status: x.status, ts: x.ts, ...(x.reason === undefined ? {} : { reason: x.reason }) })),
    host: s.started.host,
    wf_version: s.started.wf_version,
    runtime: s.started.runtime,
    var_names: s.started.var_names,
    tasks,
    vars: Object.fromEntries([...s.vars].map(([name, v]) => [name, { value: v.value, task: v.task, ts: v.ts }])),
    forensic: s.forensic.map((f) => ({ task: f.task, target: f.target, ...attemptJson(f.attempt, run, true) })),
    journal: {
      path: run.journalPath,
      lines: run.lines,
      torn_bytes: run.tornBytes,
      ...(run.damage === undefined ? {} : { corrupt_at: { line: run.damage.line, offset: run.damage.offset, reason: run.damage.reason } }),
    },
  };
}

/** Where the task list sits in the indented document; only the top level has this indentation, and no string holds a raw newline. */
const TASKS_SLOT = '\n  "tasks": [],\n';
/** Tasks serialised per JSON.stringify call: each call's output is one string. */
const TASKS_PER_PIECE = 512;
/** What JSON.stringify({ tasks: [...] }, null, 2) puts around the tasks. */
const PIECE_OPEN = '{\n  "tasks": [';
const PIECE_CLOSE = "\n  ]\n}";

/**
 * Writes `JSON.stringify(runStateJson(run), null, 2)` and a newline, the same
 * text (DEL and C1 escaped too: report/inert.ts), a few hundred tasks at a time: the tasks' JSON (most of the document
 * for a big run) is never built as one object or one string.
 */
export function writeRunStateJson(run: RunSummary, out: (text: string) => void): void {
  const doc = jsonText(runJson(run, []), 2);
  const slot = doc.indexOf(TASKS_SLOT);
  if (slot === -1) throw new Error("Internal error: no task list in the run's JSON");
  const tasks = [...run.state.tasks.values()];
  if (tasks.length === 0) {
    out(`${doc}\n`);
    return;
  }
  const nodes = nodeTable(run);
  out(`${doc.slice(0, slot)}\n  "tasks": [`);
  for (let i = 0; i < tasks.length; i += TASKS_PER_PIECE) {
    const piece = tasks.slice(i, i + TASKS_PER_PIECE).map((t) => taskJson(t, run, nodes));
    // Inside `{ tasks: [...] }` the tasks are indented as in the whole document: keep what is between the brackets.
    const json = jsonText({ tasks: piece }, 2);
    out(`${i === 0 ? "" : ","}${json.slice(PIECE_OPEN.length, -PIECE_CLOSE.length)}`);
  }
  out(`\n  ],\n${doc.slice(slot + TASKS_SLOT.length)}\n`);
}
/** Exit codes of every attempt, oldest first: `1,1,0`; a signal or timeout in words. */
function exitCodes(t: TaskFold): string {
  const parts = t.attempts.map((a) => {
    const f = a.finished;
    if (f === undefined) return "-";
    if (f.timed_out) return "timeout";
    if (f.signal !== null) return f.signal;
    return f.exit_code === null ? "-" : String(f.exit_code);
  });
  return parts.length === 0 ? "-" : parts.join(",");
}

function taskMs(t: TaskFold, run: RunSummary): number | null {
  let total: number | null = null;
  t.attempts.forEach((a, i) => {
    const ms = attemptMs(a, attemptOutcome(a, run, i === t.attempts.length - 1));
    if (ms !== null) total = (total ?? 0) + ms;
  });
  return total;
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

export function formatShow(run: RunSummary): string {
  const s = run.state;
  const last = s.statuses.at(-1);
  const reason = s.status === last?.status && last.reason !== undefined ? `: ${last.reason}` : "";
  const head: [string, string][] = [
    ["Run", run.id],
    ["Workflow", `${s.started.workflow} (${s.started.file})`],
  ];
  if (s.cwd !== undefined) head.push(["Directory", s.cwd]);
  if (s.started.tags.length > 0) head.push(["Tags", s.started.tags.join(", ")]);
  head.push(
    ["Status", `${s.status}${reason}${run.live ? ` (pid ${s.started.pid} on host "${s.started.host}" holds the lock)` : ""}`],
    ["Started", formatTime(s.startedAt)],
    ["Duration", formatMs(runDurationMs(s, run.live))],
    ["Mode", s.mode === "sequential" ? "sequential" : `${s.mode}, max ${s.maxParallel}`],
  );
  const resumes = s.statuses.filter((x) => x.status === "resuming").map((x) => formatTime(x.ts));
  head.push(["Resumes", resumes.length === 0 ? "0" : `${resumes.length} (${resumes.join(", ")})`]);
  if (run.tornBytes > 0) head.push(["Journal", `torn tail of ${run.tornBytes} bytes after line ${run.lines} (ignored; wf resume repairs it)`]);
  let text = head.map(([k, v]) => `${k.padEnd(9)} ${v}`).join("\n") + "\n\n";

  text += renderTable(
    ["TASK", "STATE", "ATTEMPTS", "EXIT", "DURATION", "NOTE"],
    [...s.tasks.values()].map((t) => {
      const ms = taskMs(t, run);
      const note = t.state === "failed" && t.ignored ? `ignored: ${firstLine(t.reason ?? "")}` : firstLine(t.reason ?? "");
      return [t.id, t.state, String(t.attempts.length), exitCodes(t), ms === null ? "-" : formatMs(ms), note];
    }),
  );
  if (s.vars.size > 0) {
    text += "\nVariables\n";
    for (const [name, v] of s.vars) text += `  ${name} = ${JSON.stringify(v.value)} (from ${v.task})\n`;
  }
  if (s.forensic.length > 0) {
    text += "\nForensic tasks\n";
    for (const f of s.forensic) {
      const outcome = attemptOutcome(f.attempt, run, true);
      const ms = attemptMs(f.attempt, outcome);
      const fin = f.attempt.finished;
      const detail = fin === undefined ? "" : fin.state === "failed" ? ` (${failureSummary(fin)})` : "";
      const target = f.target === "*" ? "the workflow" : `"${f.target}"`;
      text += `  ${f.task} for ${target}: ${outcome}${detail}${ms === null ? "" : ` in ${formatMs(ms)}`}\n`;
    }
  }
  return text;
}
