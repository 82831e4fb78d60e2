/**
 * `wf show --timeline`: the timeline of report/timeline.ts drawn with
 * characters, every line at most `width` columns:
 *
 *   Run       r1 (ci): failed
 *   Timeline  2026-01-01 00:00:00Z to 00:00:10Z (10s), 1 execution
 *               |run
 *     a         ██████                          2s
 *   * b         xxxxxxxxxxxxxxx██████           7s
 *   * c                              t          1s
 *               00:00:00Z              00:00:10Z
 *   █ succeeded  x failed  t timed out  * critical path
 */
import { formatMs, formatTime } from "./table.ts";
import { type AttemptOutcome, type Timeline, type TimelineRow, TimeScale } from "./timeline.ts";

/** One character per outcome, told apart without colour. */
export const OUTCOME_CHARS: Readonly<Record<AttemptOutcome, string>> = {
  succeeded: "█",
  adopted: "▓",
  failed: "x",
  "timed-out": "t",
  cancelled: "c",
  interrupted: "?",
  running: ">",
};
const SKIPPED = "s";
const CANCELLED_MARK = "-";
const BREAK = "≈";
const DURATION_WIDTH = 7;
/** Narrowest bar area drawn; below it the names are cut further. */
const MIN_AREA = 10;

/** A row's label: its id, and for a forensic task the task it served. */
export function rowLabel(row: Pick<TimelineRow, "id" | "forensicFor">): string {
  if (row.forensicFor === undefined) return row.id;
  return `${row.id} (for ${row.forensicFor === "*" ? "the workflow" : row.forensicFor})`;
}

function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - [...text].length));
}

/** `00:01:05Z`: the time of day, for the axis. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}

export interface TimelineHead {
  readonly runId: string;
  readonly workflow: string;
  readonly status: string;
}

/** The timeline as text, `width` columns wide (at least 40 are used). */
export function formatTimeline(t: Timeline, head: TimelineHead, width: number): string {
  const w = Math.max(40, width);
  const labels = t.rows.map(rowLabel);
  const longest = labels.reduce((m, l) => Math.max(m, [...l].length), 4);
  // "* " + name + " " + bars + " " + duration.
  const fixed = 2 + 1 + 1 + DURATION_WIDTH;
  const nameW = Math.max(4, Math.min(longest, Math.floor(w * 0.3), w - fixed - MIN_AREA));
  const areaW = w - fixed - nameW;
  const indent = " ".repeat(2 + nameW + 1);
  const scale = new TimeScale(t, areaW, 1);
  const col = (ms: number) => Math.min(areaW - 1, Math.max(0, Math.floor(scale.x(ms))));

  const lines: string[] = [];
  const executions = `${t.executions.length} execution${t.executions.length === 1 ? "" : "s"}`;
  lines.push(cut(`Run       ${head.runId} (${head.workflow}): ${head.status}`, w));
  lines.push(cut(`Timeline  ${formatTime(new Date(t.start).toISOString())} to ${clock(t.end)} (${formatMs(t.end - t.start)}), ${executions}`, w));

  // The executions: "|" where each begins, "≈" where the axis skips a wait.
  const ruler: string[] = Array.from({ length: areaW }, () => " ");
  for (const b of scale.breaks) ruler[Math.min(areaW - 1, Math.floor(b.x))] = BREAK;
  t.executions.forEach((e, i) => {
    const at = col(e.start);
    const label = `|${i === 0 ? "run" : `resume ${i}`}`;
    // A label is written only where it overwrites nothing but spaces.
    const free = [...label].every((_, k) => at + k >= areaW || ruler[at + k] === " " || k === 0);
    [...(free ? label : "|")].forEach((ch, k) => {
      if (at + k < areaW) ruler[at + k] = ch;
    });
  });
  lines.push(`${indent}${ruler.join("")}`.trimEnd());

  const used = new Set<string>();
  t.rows.forEach((row, i) => {
    const cells: string[] = Array.from({ length: areaW }, () => " ");
    for (const m of row.marks) {
      const ch = m.kind === "skipped" ? SKIPPED : CANCELLED_MARK;
      cells[col(m.at)] = ch;
      used.add(ch);
    }
    let ms = 0;
    for (const a of row.attempts) {
      const from = col(a.start);
      const to = Math.max(from + 1, Math.min(areaW, Math.ceil(scale.x(a.end))));
      const ch = OUTCOME_CHARS[a.outcome];
      for (let c = from; c < to; c++) cells[c] = ch;
      used.add(ch);
      ms += a.end - a.start;
    }
    const mark = row.critical ? "*" : " ";
    const duration = row.attempts.length === 0 ? "-" : formatMs(ms);
    lines.push(`${mark} ${pad(cut(labels[i]!, nameW), nameW)} ${cells.join("")} ${duration.padStart(DURATION_WIDTH)}`.trimEnd());
  });

  const left = clock(t.start);
  const right = clock(t.end);
  lines.push(`${indent}${areaW >= left.length + right.length + 1 ? left + " ".repeat(areaW - left.length - right.length) + right : left}`.trimEnd());

  const legend: string[] = [];
  for (const [outcome, ch] of Object.entries(OUTCOME_CHARS)) if (used.has(ch)) legend.push(`${ch} ${outcome.replace("-", " ")}`);
  if (used.has(SKIPPED)) legend.push(`${SKIPPED} skipped`);
  if (used.has(CANCELLED_MARK)) legend.push(`${CANCELLED_MARK} cancelled before it ran`);
  if (t.criticalPath.length > 0) legend.push("* critical path");
  if (scale.breaks.length > 0) legend.push(`${BREAK} wait between executions`);
  lines.push(...wrap(legend, w));

  const s = t.summary;
  const summary = [
    `Task time ${formatMs(s.taskMs)} in ${formatMs(s.executionMs)} of execution${t.executions.length === 1 ? "" : "s"}`,
    `parallelism ${s.parallelism.toFixed(1)}`,
    ...(t.criticalPath.length === 0 ? [] : [`critical path ${formatMs(s.criticalMs)} over ${t.criticalPath.length} task${t.criticalPath.length === 1 ? "" : "s"}`]),
  ];
  lines.push(...wrap(summary, w, ", "));
  return `${lines.join("\n")}\n`;
}

/** Items joined by `sep`, in lines of at most `width` columns. */
function wrap(items: readonly string[], width: number, sep = "  "): string[] {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    const next = line === "" ? item : `${line}${sep}${item}`;
    if ([...next].length + sep.trimEnd().length <= width || line === "") line = next;
    else {
      lines.push(line + sep.trimEnd());
      line = item;
    }
  }
  if (line !== "") lines.push(cut(line, width));
  return lines.map((l) => l.trimEnd());
}
