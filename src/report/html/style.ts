/**
 * The report's styles, inline in the page: system fonts only (nothing to
 * load), one colour per outcome and state, shared by the timeline, the graph
 * and the task list.
 */
import type { AttemptOutcome } from "../timeline.ts";

/** Fill of each attempt outcome; a node's final state uses the same colour for the same word. */
export const OUTCOME_COLOURS: Readonly<Record<AttemptOutcome, string>> = {
  succeeded: "#2f9e44",
  adopted: "#1c7ed6",
  failed: "#e03131",
  "timed-out": "#f08c00",
  cancelled: "#868e96",
  interrupted: "#9c36b5",
  running: "#fab005",
};

/** Fill of each final task state in the graph. */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  succeeded: OUTCOME_COLOURS.succeeded,
  failed: OUTCOME_COLOURS.failed,
  cancelled: OUTCOME_COLOURS.cancelled,
  interrupted: OUTCOME_COLOURS.interrupted,
  running: OUTCOME_COLOURS.running,
  skipped: "#dee2e6",
  pending: "#ffffff",
};

/** States whose fill is light: their labels are dark. */
const LIGHT = new Set(["skipped", "pending", "running"]);

export function stateTextColour(state: string): string {
  return LIGHT.has(state) ? "#212529" : "#ffffff";
}

export const STYLE = `
:root { color-scheme: light; --fg: #212529; --muted: #5c636a; --line: #dee2e6; --bg: #ffffff; --panel: #f8f9fa; --critical: #fff3bf; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
pre { background: var(--panel); border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 320px; white-space: pre-wrap; word-break: break-all; margin: 6px 0; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; }
.facts th { border: 0; padding-right: 16px; white-space: nowrap; }
.facts td { border: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px; font-weight: 600; color: #fff; background: #868e96; }
.badge.light { color: #212529; }
.warning { background: #fff4e6; border: 1px solid #ffc078; padding: 8px 12px; margin: 10px 0; }
.muted { color: var(--muted); }
.scroll { overflow: auto; border: 1px solid var(--line); background: var(--bg); }
.graph.scroll { max-height: 640px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0; font-size: 12.5px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; }
.swatch.critical { background: var(--critical); outline: 2px solid #212529; }
svg text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 11.5px; fill: var(--fg); }
svg .axis text { fill: var(--muted); font-size: 10.5px; }
svg .axis line { stroke: var(--line); }
svg .exec line { stroke: #1864ab; stroke-width: 1.5; }
svg .exec text { fill: #1864ab; font-weight: 600; }
svg .gap rect { fill: url(#gap); }
svg .row.critical .band { fill: var(--critical); fill-opacity: 0.75; }
svg .row.critical .label { font-weight: 700; }
svg .row:hover .band { fill: #e7f5ff; }
svg .bar { cursor: pointer; }
svg .bar.critical { stroke: #212529; stroke-width: 1.5; }
svg .mark.skipped { fill: #fff; stroke: #868e96; }
svg .mark.cancelled { fill: #868e96; }
svg .node rect { stroke: #495057; stroke-width: 1; }
svg .node.critical rect { stroke: #212529; stroke-width: 2.5; }
svg .node.forensic rect { stroke-dasharray: 4 3; }
svg .edge { fill: none; stroke: #868e96; stroke-width: 1.2; }
svg .edge.forensic { stroke-dasharray: 4 3; }
details.task { border-bottom: 1px solid var(--line); padding: 4px 0; }
details.task > summary { cursor: pointer; list-style-position: outside; }
details.task > div { padding: 4px 0 8px 18px; }
.hidden { display: none !important; }
#filters { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; margin: 8px 0; padding: 6px 10px; background: var(--panel); border: 1px solid var(--line); }
#filters label { display: inline-flex; gap: 4px; align-items: center; }
#tip { position: fixed; pointer-events: none; background: #212529; color: #fff; padding: 6px 8px; border-radius: 4px; font-size: 12px; white-space: pre; z-index: 10; }
`;
