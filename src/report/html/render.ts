/**
 * `wf report`: a run as one self-contained HTML page. Styles and the small
 * script are inline, the timeline and the graph are static SVG laid out here,
 * and a Content-Security-Policy forbids the page any request at all, so it
 * opens the same on a machine with no network and reads with scripts off.
 *
 *   header      the run: workflow, status and reason, host, times, journal
 *   executions  the run and every resume: mode, parallelism, outcome
 *   summary     where the time went: task time, wall time, parallelism, critical path, longest tasks
 *   timeline    a row per task node, a bar per attempt (report/timeline.ts)
 *   graph       nodes by final state, edges from depends_on, forensic tasks beside theirs
 *   tasks       per task: attempts, exit status or signal, durations, stderr tail, log paths, variables
 */
import type { JournalRecord } from "../../journal/events.ts";
import type { TaskState } from "../../journal/fold.ts";
import type { RunSummary } from "../../runs/open.ts";
import { VERSION } from "../../version.ts";
import { describeDamage } from "../failure.ts";
import { failureSummary } from "../human.ts";
import { formatMs, formatTime, formatTimeMs } from "../table.ts";
import { rowLabel } from "../timeline-text.ts";
import { ATTEMPT_OUTCOMES, type AttemptOutcome, type Timeline, type TimelineAttempt, TimelineBuilder, type TimelineRow, TimeScale } from "../timeline.ts";
import { esc, num } from "./escape.ts";
import { layoutGraph, NODE_HEIGHT } from "./layout.ts";
import { SCRIPT } from "./script.ts";
import { OUTCOME_COLOURS, STATE_COLOURS, stateTextColour, STYLE } from "./style.ts";

/** Nothing may be fetched: no script, style, font or picture but those inline. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const OUTCOME_WORDS: Readonly<Record<AttemptOutcome, string>> = {
  succeeded: "succeeded",
  adopted: "adopted",
  failed: "failed",
  "timed-out": "timed out",
  cancelled: "cancelled",
  interrupted: "interrupted",
  running: "running",
};

/** The state a row is filtered and coloured by: a task's final state, a forensic task's last outcome. */
type RowState = TaskState | AttemptOutcome;

interface RowView {
  readonly index: number;
  readonly row: TimelineRow;
  readonly label: string;
  readonly state: RowState;
  readonly reason?: string;
  readonly ms: number;
}

export interface ReportOptions {
  /** The time the page is written: running attempts end here. */
  readonly now: number;
}

/**
 * What the page needs of a journal's records, taken one at a time as the
 * journal is read (readRun's `onRecord`): the timeline and the values each
 * task registered, never the records themselves.
 */
export class ReportRecords {
  readonly timeline = new TimelineBuilder();
  readonly registered = new Map<string, { name: string; value: string; ts: string }[]>();

  add(r: JournalRecord): void {
    this.timeline.add(r);
    if (r.type === "var_registered") (this.registered.get(r.task) ?? this.registered.set(r.task, []).get(r.task)!).push({ name: r.name, value: r.value, ts: r.ts });
  }
}

/** The whole page of a run whose records went through `records`. */
export function renderReport(run: RunSummary, records: ReportRecords, opts: ReportOptions): string {
  return [...reportPieces(run, records, opts)].join("");
}

/**
 * The page in pieces, in order (their concatenation is renderReport's page):
 * a row of the timeline or a task's details at a time, so that the page of a
 * run with 50,000 tasks is written as it is made, never held whole.
 */
export function* reportPieces(run: RunSummary, records: ReportRecords, opts: ReportOptions): Generator<string> {
  const timeline = records.timeline.finish({ live: run.live, now: opts.now });
  const views = timeline.rows.map((row, index) => viewOf(run, row, index));
  const s = run.state;
  const title = `wf run ${run.id} (${s.started.workflow}): ${s.status}`;
  const parts: (string | Iterable<string>)[] = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="wf ${esc(VERSION)}">`,
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head><body>",
    header(run, timeline),
    executions(timeline),
    summary(timeline, views),
    timelineSection(timeline, views),
    graphSection(run, timeline, views),
    tasksSection(run, views, records.registered),
    variablesSection(run),
    `<p class="muted">Written by wf ${esc(VERSION)} at ${esc(formatTime(new Date(opts.now).toISOString()))}. Times are UTC.</p>`,
    `<script>${SCRIPT}</script>`,
    "</body></html>",
    "",
  ];
  yield* joined(parts, "\n");
}

/** The pieces of `parts` (a string, or a section's own pieces), with `separator` between parts. */
function* joined(parts: readonly (string | Iterable<string>)[], separator: string): Generator<string> {
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) yield separator;
    const part = parts[i]!;
    if (typeof part === "string") yield part;
    else yield* part;
  }
}

function viewOf(run: RunSummary, row: TimelineRow, index: number): RowView {
  let ms = 0;
  for (const a of row.attempts) ms += a.end - a.start;
  const task = row.forensicFor === undefined ? run.state.tasks.get(row.id) : undefined;
  const state: RowState = task?.state ?? row.attempts.at(-1)?.outcome ?? "pending";
  const reason = task?.reason ?? row.attempts.at(-1)?.finished?.error;
  return { index, row, label: rowLabel(row), state, ms, ...(reason === undefined ? {} : { reason }) };
}

function colourOf(state: RowState): string {
  return STATE_COLOURS[state] ?? OUTCOME_COLOURS[state as AttemptOutcome] ?? "#ffffff";
}

function badge(state: string, text = state): string {
  const light = stateTextColour(state) !== "#ffffff";
  return `<span class="badge${light ? " light" : ""}" style="background:${colourOf(state as RowState)}">${esc(text)}</span>`;
}

const STATUS_COLOURS: Readonly<Record<string, string>> = {
  success: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
  interrupted: "interrupted",
  running: "running",
  resuming: "running",
};

function statusBadge(status: string): string {
  return badge(STATUS_COLOURS[status] ?? "pending", status);
}

function clockOf(ms: number): string {
  return Number.isFinite(ms) ? formatTimeMs(ms) : "-";
}

function header(run: RunSummary, t: Timeline): string {
  const s = run.state;
  const last = s.statuses.at(-1);
  const reason = s.status === last?.status ? last.reason : undefined;
  const facts: [string, string][] = [
    ["Workflow", `${esc(s.started.workflow)} <span class="muted">(${esc(s.started.file)})</span>`],
    ["Status", `${statusBadge(s.status)}${reason === undefined ? "" : ` ${esc(reason)}`}`],
    ["Host", `${esc(s.started.host)} <span class="muted">(pid ${s.started.pid}, wf ${esc(s.started.wf_version)}, ${esc(s.started.runtime)})</span>`],
    ["Started", esc(formatTime(s.startedAt))],
    ["Duration", `${esc(formatMs(t.summary.wallMs))}${s.endedAt === undefined ? (run.live ? " so far" : "") : ` <span class="muted">(ended ${esc(formatTime(s.endedAt))})</span>`}`],
    ["Executions", `${t.executions.length} <span class="muted">(${s.resumes === 0 ? "no resume" : `${s.resumes} resume${s.resumes === 1 ? "" : "s"}`})</span>`],
  ];
  if (s.cwd !== undefined) facts.push(["Directory", `<code>${esc(s.cwd)}</code>`]);
  if (s.started.tags.length > 0) facts.push(["Tags", esc(s.started.tags.join(", "))]);
  if (s.started.var_names.length > 0) facts.push(["--var names", esc(s.started.var_names.join(", "))]);
  facts.push(["Journal", `<code>${esc(run.journalPath)}</code> <span class="muted">(${run.lines} lines)</span>`]);
  const notes: string[] = [];
  if (run.live) notes.push(`A wf process (pid ${s.started.pid} on host "${esc(s.started.host)}") holds the run's lock: the run is still going, and this page shows it as it was when written.`);
  if (run.damage !== undefined) notes.push(esc(describeDamage(run.id, run.damage, run.lines)));
  if (run.tornBytes > 0) notes.push(`The journal ends in a torn tail of ${run.tornBytes} bytes after line ${run.lines} (an interrupted write): it is ignored here, and wf resume repairs it.`);
  return [
    `<h1>Run <code>${esc(run.id)}</code> of ${esc(s.started.workflow)} ${statusBadge(s.status)}</h1>`,
    ...notes.map((n) => `<div class="warning">${n}</div>`),
    `<table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</table>`,
  ].join("\n");
}

function executions(t: Timeline): string {
  const rows = t.executions.map((e) => {
    const name = e.index === 0 ? "run" : `resume ${e.index}`;
    return `<tr><td>${name}</td><td>${esc(clockOf(e.start))}</td><td class="num">${esc(formatMs(e.end - e.start))}</td><td>${esc(e.mode)}</td><td class="num">${e.maxParallel}</td><td>${statusBadge(e.status)}</td><td>${esc(e.reason ?? "")}</td>${e.cwd === undefined ? "<td></td>" : `<td><code>${esc(e.cwd)}</code></td>`}</tr>`;
  });
  return [
    '<h2 id="executions">Executions</h2>',
    '<table><tr><th>execution</th><th>started</th><th class="num">duration</th><th>mode</th><th class="num">max parallel</th><th>status</th><th>reason</th><th>directory</th></tr>',
    ...rows,
    "</table>",
  ].join("\n");
}

function summary(t: Timeline, views: readonly RowView[]): string {
  const s = t.summary;
  const maxParallel = Math.max(1, ...t.executions.map((e) => e.maxParallel));
  const byId = new Map(views.filter((v) => v.row.forensicFor === undefined).map((v) => [v.row.id, v]));
  const step = (id: string) => `<code>${esc(id)}</code> <span class="muted">${esc(formatMs(byId.get(id)?.ms ?? 0))}</span>`;
  const cp = t.criticalPath;
  // A long path is shown by its ends.
  const path = cp.length <= 30
    ? cp.map(step).join(" → ")
    : [...cp.slice(0, 15).map(step), `<span class="muted">… ${cp.length - 30} more …</span>`, ...cp.slice(-15).map(step)].join(" → ");
  const facts: [string, string][] = [
    ["Total task time", `${esc(formatMs(s.taskMs))} <span class="muted">(${s.attempts} attempt${s.attempts === 1 ? "" : "s"})</span>`],
    ["Wall time", `${esc(formatMs(s.wallMs))}${s.executionMs < s.wallMs ? ` <span class="muted">(${esc(formatMs(s.executionMs))} of it in executions)</span>` : ""}`],
    ["Parallelism achieved", `${s.parallelism.toFixed(2)} <span class="muted">(task time / time in executions; at most ${maxParallel} allowed)</span>`],
    ["Critical path", t.criticalPath.length === 0 ? '<span class="muted">no task ran</span>' : `${esc(formatMs(s.criticalMs))} over ${t.criticalPath.length} task${t.criticalPath.length === 1 ? "" : "s"}: ${path}`],
  ];
  const longest = s.longest.map((l) => `<tr><td><code>${esc(l.id)}</code></td><td class="num">${esc(formatMs(l.ms))}</td><td class="num">${l.attempts}</td><td class="num">${s.taskMs > 0 ? ((l.ms / s.taskMs) * 100).toFixed(1) : "0.0"}%</td></tr>`);
  return [
    '<h2 id="summary">Where the time went</h2>',
    `<table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</table>`,
    longest.length === 0 ? "" : `<table><tr><th>longest tasks</th><th class="num">time</th><th class="num">attempts</th><th class="num">share of task time</th></tr>${longest.join("")}</table>`,
  ].join("\n");
}

/** Tick steps for the time axis, in milliseconds. */
const STEPS = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

function tickLabel(ms: number, step: number): string {
  const iso = new Date(ms).toISOString();
  return step < 1000 ? iso.slice(11, 21) : iso.slice(11, 19);
}

function legend(used: ReadonlySet<string>, critical: boolean, gaps: boolean): string {
  const items = ATTEMPT_OUTCOMES.filter((o) => used.has(o)).map((o) => `<span><i class="swatch" style="background:${OUTCOME_COLOURS[o]}"></i>${OUTCOME_WORDS[o]}</span>`);
  if (used.has("skipped")) items.push('<span><i class="swatch" style="background:#fff;border:1px solid #868e96"></i>skipped</span>');
  if (used.has("cancelled-mark")) items.push('<span><i class="swatch" style="background:#868e96;width:6px"></i>cancelled before it ran</span>');
  if (critical) items.push('<span><i class="swatch critical"></i>critical path</span>');
  if (gaps) items.push('<span><i class="swatch" style="background:repeating-linear-gradient(45deg,#ced4da 0 2px,#fff 2px 5px)"></i>no wf ran (the wait is drawn short)</span>');
  items.push('<span class="muted">| an execution starts (run, resume)</span>');
  return `<div class="legend">${items.join("")}</div>`;
}

function attemptTitle(label: string, a: TimelineAttempt): string {
  const f = a.finished;
  const how = f === undefined ? "" : f.state === "failed" ? `, ${failureSummary(f)}` : f.exit_code !== null ? `, exit ${f.exit_code}` : "";
  return `${label} attempt ${a.attempt}: ${OUTCOME_WORDS[a.outcome]}${how}, ${formatMs(a.end - a.start)} (${clockOf(a.start)} to ${clockOf(a.end).slice(11)})`;
}

const ROW_HEIGHT = 18;
const BAR_HEIGHT = 12;
const ROWS_TOP = 44;
const ROWS_BOTTOM = 8;
const CHAR_WIDTH = 7;
const GAP_WIDTH = 24;

function* timelineSection(t: Timeline, views: readonly RowView[]): Generator<string> {
  const longest = views.reduce((m, v) => Math.max(m, v.label.length), 4);
  const labelW = Math.min(320, Math.max(120, longest * CHAR_WIDTH + 20));
  const width = 1180;
  const durW = 70;
  const areaX = labelW;
  const areaW = width - labelW - durW;
  const scale = new TimeScale(t, areaW, GAP_WIDTH);
  const x = (ms: number) => areaX + scale.x(ms);
  const rowsBottom = ROWS_TOP + views.length * ROW_HEIGHT;
  const height = rowsBottom + ROWS_BOTTOM;
  const out: string[] = [];
  out.push(`<svg id="timeline-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-row-height="${ROW_HEIGHT}" data-rows-top="${ROWS_TOP}" data-rows-bottom="${ROWS_BOTTOM}" role="img" aria-label="Timeline">`);
  out.push('<defs><pattern id="gap" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><rect width="2" height="6" fill="#ced4da"/></pattern></defs>');
  // Ticks: a step giving at most about 10 over the drawn time, in each stretch.
  const drawn = scale.spans.reduce((sum, s) => sum + (s.to - s.from), 0);
  const step = STEPS.find((s) => drawn / s <= 10) ?? STEPS.at(-1)!;
  out.push('<g class="axis">');
  for (const span of scale.spans) {
    for (let ms = Math.ceil(span.from / step) * step; ms <= span.to; ms += step) {
      const px = x(ms);
      out.push(`<line x1="${num(px)}" y1="${ROWS_TOP - 14}" x2="${num(px)}" y2="${rowsBottom}" class="span-rows"/><text x="${num(px + 2)}" y="${ROWS_TOP - 4}">${tickLabel(ms, step)}</text>`);
    }
  }
  out.push("</g>");
  for (const b of scale.breaks) {
    out.push(`<g class="gap"><rect x="${num(areaX + b.x)}" y="${ROWS_TOP - 16}" width="${GAP_WIDTH}" height="${rowsBottom - ROWS_TOP + 16}" class="span-rows" fill="url(#gap)"><title>No wf ran for ${esc(formatMs(b.to - b.from))} (${esc(clockOf(b.from))} to ${esc(clockOf(b.to))})</title></rect></g>`);
  }
  out.push('<g class="exec">');
  t.executions.forEach((e) => {
    const px = x(e.start);
    const name = e.index === 0 ? "run" : `resume ${e.index}`;
    out.push(`<line x1="${num(px)}" y1="4" x2="${num(px)}" y2="${rowsBottom}" class="span-rows"/><text x="${num(px + 3)}" y="14">${name}<title>${esc(`${name}: ${e.mode}, max ${e.maxParallel}, ${e.status}, started ${clockOf(e.start)}`)}</title></text>`);
  });
  out.push("</g>");
  // The legend, above the rows, names what the rows draw.
  const used = new Set<string>();
  for (const v of views) {
    for (const m of v.row.marks) used.add(m.kind === "skipped" ? "skipped" : "cancelled-mark");
    for (const a of v.row.attempts) used.add(a.outcome);
  }
  const states = [...new Set(views.map((v) => v.state))];
  const filters = `<div id="filters" class="hidden"><strong>Show</strong>${states.map((st) => `<label><input type="checkbox" value="${esc(st)}" checked>${badge(st)}</label>`).join("")}<label>task <input type="search" placeholder="name contains"></label><span id="filter-count" class="muted"></span></div>`;
  yield* joined(['<h2 id="timeline">Timeline</h2>', legend(used, t.criticalPath.length > 0, scale.breaks.length > 0), filters], "\n");
  yield `\n<div class="scroll timeline">${out.join("\n")}`;
  for (let i = 0; i < views.length; i++) {
    const v = views[i]!;
    const row = v.row;
    const y = ROWS_TOP + i * ROW_HEIGHT;
    const lastExec = row.attempts.at(-1)?.execution;
    const parts: string[] = [];
    parts.push(`<g class="row${row.critical ? " critical" : ""}" data-row="${v.index}" data-state="${esc(v.state)}" data-name="${esc(v.label)}" transform="translate(0,${y})">`);
    parts.push(`<rect class="band" x="0" y="0" width="${width}" height="${ROW_HEIGHT}" fill="transparent"/>`);
    const shown = v.label.length * CHAR_WIDTH > labelW - 12 ? `${v.label.slice(0, Math.floor((labelW - 12) / CHAR_WIDTH) - 1)}…` : v.label;
    parts.push(`<text class="label" x="4" y="13">${esc(shown)}<title>${esc(`${v.label}: ${v.state}`)}</title></text>`);
    for (const m of row.marks) {
      parts.push(`<rect class="mark ${m.kind}" x="${num(x(m.at) - 3)}" y="4" width="6" height="10"><title>${esc(`${v.label}: ${m.kind} at ${clockOf(m.at)}: ${m.reason}`)}</title></rect>`);
    }
    for (const a of row.attempts) {
      const x0 = x(a.start);
      const w = Math.max(2, x(a.end) - x0);
      const critical = row.critical && a.execution === lastExec;
      parts.push(`<rect class="bar ${a.outcome}${critical ? " critical" : ""}" x="${num(x0)}" y="${(ROW_HEIGHT - BAR_HEIGHT) / 2}" width="${num(w)}" height="${BAR_HEIGHT}" rx="2" fill="${OUTCOME_COLOURS[a.outcome]}" data-row="${v.index}"><title>${esc(attemptTitle(v.label, a))}</title></rect>`);
    }
    parts.push(`<text x="${width - 4}" y="13" text-anchor="end">${row.attempts.length === 0 ? "-" : esc(formatMs(v.ms))}</text></g>`);
    yield `\n${parts.join("")}`;
  }
  yield "\n</svg></div>";
}

function graphSection(run: RunSummary, t: Timeline, views: readonly RowView[]): string {
  const nodes = run.state.started.nodes;
  const viewById = new Map(views.filter((v) => v.row.forensicFor === undefined).map((v) => [v.row.id, v]));
  const keyOf = (v: RowView) => (v.row.forensicFor === undefined ? v.row.id : `\u0000forensic ${v.index}`);
  const nodeWidth = (label: string) => Math.min(260, Math.max(60, label.length * CHAR_WIDTH + 18));
  const edges: [string, string][] = [];
  const forensicEdges = new Set<string>();
  for (const n of nodes) for (const d of n.deps) edges.push([d, n.id]);
  for (const v of views) {
    if (v.row.forensicFor === undefined || !viewById.has(v.row.forensicFor)) continue;
    edges.push([v.row.forensicFor, keyOf(v)]);
    forensicEdges.add(`${v.row.forensicFor}\u0000${keyOf(v)}`);
  }
  const layout = layoutGraph({ nodes: views.map((v) => ({ id: keyOf(v), width: nodeWidth(v.label) })), edges });
  const byKey = new Map(views.map((v) => [keyOf(v), v]));
  const critical = new Set(t.criticalPath);
  const out: string[] = [];
  const w = Math.max(layout.width, 100);
  const h = Math.max(layout.height, NODE_HEIGHT + 24);
  out.push(`<svg width="${num(w)}" height="${num(h)}" viewBox="0 0 ${num(w)} ${num(h)}" role="img" aria-label="Task graph">`);
  out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker></defs>');
  for (const e of layout.edges) {
    if (e.points.length < 2) continue;
    const d = e.points.map((p, i) => `${i === 0 ? "M" : "L"}${num(p.x)},${num(p.y)}`).join(" ");
    const forensic = forensicEdges.has(`${e.from}\u0000${e.to}`);
    out.push(`<path class="edge${forensic ? " forensic" : ""}" d="${d}" marker-end="url(#arrow)"/>`);
  }
  for (const n of layout.nodes) {
    const v = byKey.get(n.id);
    if (v === undefined) continue;
    const forensic = v.row.forensicFor !== undefined;
    const cls = `node${critical.has(v.row.id) && !forensic ? " critical" : ""}${forensic ? " forensic" : ""}`;
    const label = v.label.length * CHAR_WIDTH > n.width - 12 ? `${v.label.slice(0, Math.floor((n.width - 12) / CHAR_WIDTH) - 1)}…` : v.label;
    const title = `${v.label}: ${v.state}, ${v.row.attempts.length} attempt${v.row.attempts.length === 1 ? "" : "s"}${v.row.attempts.length > 0 ? `, ${formatMs(v.ms)}` : ""}${v.reason === undefined ? "" : `: ${firstLine(v.reason)}`}`;
    out.push(`<g class="${cls}" data-row="${v.index}"><rect x="${num(n.x - n.width / 2)}" y="${num(n.y - n.height / 2)}" width="${num(n.width)}" height="${num(n.height)}" rx="4" fill="${colourOf(v.state)}"/><text x="${num(n.x)}" y="${num(n.y + 4)}" text-anchor="middle" style="fill:${stateTextColour(v.state)}">${esc(label)}</text><title>${esc(title)}</title></g>`);
  }
  out.push("</svg>");
  const states = [...new Set(views.map((v) => v.state))];
  return [
    '<h2 id="graph">Graph</h2>',
    `<div class="legend">${states.map((st) => `<span><i class="swatch" style="background:${colourOf(st)};border:1px solid #495057"></i>${esc(st)}</span>`).join("")}<span class="muted">dashed: a forensic task, beside the task it served</span>${layout.by === "layers" ? '<span class="muted">(a large graph: laid out in plain layers)</span>' : ""}</div>`,
    `<div class="scroll graph">${out.join("\n")}</div>`,
  ].join("\n");
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

function exitOf(a: TimelineAttempt): string {
  const f = a.finished;
  if (f === undefined) return "-";
  if (f.timed_out) return `timed out${f.signal === null ? "" : ` (${f.signal})`}`;
  if (f.signal !== null) return `signal ${f.signal}`;
  return f.exit_code === null ? "did not start" : `exit ${f.exit_code}`;
}

function* tasksSection(run: RunSummary, views: readonly RowView[], registered: ReadonlyMap<string, readonly { name: string; value: string; ts: string }[]>): Generator<string> {
  const deps = new Map(run.state.started.nodes.map((n) => [n.id, n.deps]));
  yield '<h2 id="tasks">Tasks</h2>';
  yield `\n<p class="muted">${views.length} row${views.length === 1 ? "" : "s"}; tasks with an attempt that did not succeed are open. Log paths are relative to the run's folder <code>${esc(run.dir)}</code>.</p>`;
  for (const v of views) {
    const row = v.row;
    // Open where something went wrong: a failed, timed out, cancelled or interrupted attempt.
    const open = v.state === "failed" || row.attempts.some((a) => a.outcome !== "succeeded" && a.outcome !== "adopted" && a.outcome !== "running");
    const d = deps.get(row.id) ?? [];
    const body: string[] = [];
    if (row.forensicFor !== undefined) body.push(`<p>Forensic task for ${row.forensicFor === "*" ? "the workflow" : `<code>${esc(row.forensicFor)}</code>`}.</p>`);
    if (d.length > 0) body.push(`<p>Depends on ${d.map((x) => `<code>${esc(x)}</code>`).join(", ")}.</p>`);
    for (const m of row.marks) body.push(`<p>${esc(m.kind === "skipped" ? "Skipped" : "Cancelled")} at ${esc(clockOf(m.at))}: ${esc(m.reason)}</p>`);
    if (row.attempts.length > 0) {
      body.push('<table><tr><th class="num">attempt</th><th>outcome</th><th>started</th><th class="num">duration</th><th>exit</th><th>execution</th><th>logs</th></tr>');
      for (const a of row.attempts) {
        const st = a.started;
        const logs = st === undefined ? "-" : `<code>${esc(st.stdout_log)}</code><br><code>${esc(st.stderr_log)}</code>`;
        const f = a.finished;
        const notes = [f?.will_retry === true ? "retried" : "", f?.ignored === true ? "ignored" : "", f?.log_truncated === true ? "log truncated" : "", f?.log_error === undefined ? "" : `log lost: ${f.log_error}`].filter((n) => n !== "");
        body.push(`<tr><td class="num">${a.attempt}</td><td>${badge(a.outcome, OUTCOME_WORDS[a.outcome])}${notes.length === 0 ? "" : ` <span class="muted">${esc(notes.join(", "))}</span>`}</td><td>${esc(clockOf(a.start))}</td><td class="num">${esc(formatMs(a.end - a.start))}</td><td>${esc(exitOf(a))}</td><td>${a.execution === 0 ? "run" : `resume ${a.execution}`}</td><td>${logs}</td></tr>`);
      }
      body.push("</table>");
      const cmd = row.attempts.at(-1)?.started?.cmd;
      if (cmd !== undefined) body.push(`<div class="muted">command</div><pre>${esc(cmd)}</pre>`);
      for (const a of row.attempts) {
        const error = a.finished?.error;
        if (a.finished?.state === "failed" && error !== undefined) body.push(`<div class="muted">attempt ${a.attempt}: how it ended and the tail of its stderr</div><pre>${esc(error)}</pre>`);
      }
    } else if (row.marks.length === 0) {
      body.push(`<p class="muted">${v.reason === undefined ? "Never started." : esc(v.reason)}</p>`);
    }
    const vars = row.forensicFor === undefined ? (registered.get(row.id) ?? []) : [];
    if (vars.length > 0) body.push(`<table><tr><th>registered</th><th>value</th><th>at</th></tr>${vars.map((x) => `<tr><td><code>${esc(x.name)}</code></td><td><code>${esc(x.value)}</code></td><td>${esc(formatTime(x.ts))}</td></tr>`).join("")}</table>`);
    const critical = row.critical ? ' <span class="muted">· critical path</span>' : "";
    const duration = row.attempts.length === 0 ? "" : ` · ${esc(formatMs(v.ms))}`;
    yield `\n<details class="task" id="task-${v.index}" data-state="${esc(v.state)}" data-name="${esc(v.label)}"${open ? " open" : ""}><summary>${badge(v.state)} <code>${esc(v.label)}</code> <span class="muted">· ${row.attempts.length} attempt${row.attempts.length === 1 ? "" : "s"}${duration}</span>${critical}</summary><div>${body.join("")}</div></details>`;
  }
}

function variablesSection(run: RunSummary): string {
  const vars = [...run.state.vars];
  if (vars.length === 0) return "";
  return [
    '<h2 id="variables">Variables</h2>',
    `<table><tr><th>name</th><th>value</th><th>registered by</th></tr>${vars.map(([name, v]) => `<tr><td><code>${esc(name)}</code></td><td><code>${esc(v.value)}</code></td><td><code>${esc(v.task)}</code></td></tr>`).join("")}</table>`,
  ].join("\n");
}
