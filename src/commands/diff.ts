/** `wf diff <a> <b>`: what differs between two runs: task states, attempts, durations, variables. */
import type { TaskFold } from "../journal/fold.ts";
import type { Io } from "../platform/io.ts";
import { runDurationMs } from "../runs/list.ts";
import { openRun, type OpenedRun as LoadedRun } from "../runs/open.ts";
import type { Outcome } from "../util/failure.ts";
import { ok } from "../util/result.ts";
import { formatMs, formatTime, renderTable } from "../report/table.ts";
import { inert, jsonText } from "../report/inert.ts";

interface TaskSide {
  readonly state: string;
  readonly attempts: number;
  readonly durationMs: number | null;
}

export interface RunDiff {
  readonly a: LoadedRun;
  readonly b: LoadedRun;
  readonly tasks: { id: string; a: TaskSide | null; b: TaskSide | null; differs: boolean }[];
  readonly vars: { name: string; a: string | null; b: string | null }[];
}

function side(t: TaskFold | undefined): TaskSide | null {
  if (t === undefined) return null;
  let ms: number | null = null;
  for (const a of t.attempts) if (a.finished !== undefined) ms = (ms ?? 0) + a.finished.duration_ms;
  return { state: t.state, attempts: t.attempts.length, durationMs: ms };
}

/** Pure: compares two folded runs. Tasks in A's order, then those only in B. */
export function diffRuns(a: LoadedRun, b: LoadedRun): RunDiff {
  const ids = [...a.state.tasks.keys()];
  for (const id of b.state.tasks.keys()) if (!ids.includes(id)) ids.push(id);
  const tasks = ids.map((id) => {
    const sa = side(a.state.tasks.get(id));
    const sb = side(b.state.tasks.get(id));
    const differs = sa === null || sb === null || sa.state !== sb.state || sa.attempts !== sb.attempts;
    return { id, a: sa, b: sb, differs };
  });
  const names = [...new Set([...a.state.vars.keys(), ...b.state.vars.keys()])];
  const vars = names
    .map((name) => ({ name, a: a.state.vars.get(name)?.value ?? null, b: b.state.vars.get(name)?.value ?? null }))
    .filter((v) => v.a !== v.b);
  return { a, b, tasks, vars };
}

export async function diffCommand(stateDir: string, prefixA: string, prefixB: string, opts: { json: boolean }, io: Io): Promise<Outcome> {
  const a = await openRun(stateDir, prefixA, "diff");
  if (!a.ok) return a;
  const b = await openRun(stateDir, prefixB, "diff");
  if (!b.ok) return b;
  const d = diffRuns(a.value, b.value);
  io.out(opts.json ? `${jsonText(diffJson(d), 2)}\n` : inert(formatDiff(d)));
  return ok(0);
}

const runLine = (r: LoadedRun) => ({
  id: r.id, workflow: r.state.started.workflow, status: r.state.status,
  started_at: r.state.startedAt, duration_ms: runDurationMs(r.state, r.live),
});

export function diffJson(d: RunDiff): Record<string, unknown> {
  const s = (x: TaskSide | null) => (x === null ? null : { state: x.state, attempts: x.attempts, duration_ms: x.durationMs });
  return {
    a: runLine(d.a),
    b: runLine(d.b),
    tasks: d.tasks.map((t) => ({ id: t.id, differs: t.differs, a: s(t.a), b: s(t.b) })),
    vars: d.vars,
  };
}

export function formatDiff(d: RunDiff): string {
  const head = (label: string, r: LoadedRun) => {
    const x = runLine(r);
    return [label, x.id, x.workflow, x.status, formatTime(x.started_at), formatMs(x.duration_ms)];
  };
  let text = renderTable(["", "RUN", "WORKFLOW", "STATUS", "STARTED", "DURATION"], [head("A", d.a), head("B", d.b)]);
  const cell = (x: TaskSide | null, f: (s: TaskSide) => string) => (x === null ? "-" : f(x));
  const dur = (s: TaskSide) => (s.durationMs === null ? "-" : formatMs(s.durationMs));
  text += "\n" + renderTable(
    ["", "TASK", "A STATE", "A TRIES", "A TIME", "B STATE", "B TRIES", "B TIME"],
    d.tasks.map((t) => [
      t.differs ? "*" : "", t.id,
      cell(t.a, (s) => s.state), cell(t.a, (s) => String(s.attempts)), cell(t.a, dur),
      cell(t.b, (s) => s.state), cell(t.b, (s) => String(s.attempts)), cell(t.b, dur),
    ]),
  );
  const n = d.tasks.filter((t) => t.differs).length;
  if (d.vars.length > 0) {
    text += "\nVariables that differ\n";
    for (const v of d.vars) text += `  ${v.name}: ${v.a === null ? "(unset)" : JSON.stringify(v.a)} -> ${v.b === null ? "(unset)" : JSON.stringify(v.b)}\n`;
  }
  text += `\n${n === 0 ? "No task differs" : `${n} task${n === 1 ? " differs" : "s differ"}`} in state or attempts (marked *); ${d.vars.length === 0 ? "no variable differs" : `${d.vars.length} variable${d.vars.length === 1 ? " differs" : "s differ"}`}\n`;
  return text;
}
