/** Plain text tables for the inspection commands: columns padded to their widest cell, no trailing spaces. */
import { formatDuration } from "./human.ts";

/** Renders rows under a header; every cell is text. The last column is not padded. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], indent = ""): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ""))));
  return all
    .map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - width(cell)))).join("  ").trimEnd())
    .join("\n") + "\n";
}

/** Display width: code points, which is right for the text these tables hold (no wide characters). */
function width(text: string): number {
  return [...text].length;
}

/** `2025-01-08 02:00:00Z`: a UTC time to the second, for tables. */
export function formatTime(iso: string): string {
  const ms = new Date(iso).getTime();
  if (Number.isNaN(ms)) return iso === "" ? "-" : iso;
  return formatTimeMs(ms);
}

/** formatTime of a time in milliseconds since the epoch, with no ISO text to parse. */
export function formatTimeMs(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** A duration for tables: milliseconds under a second (`39ms`), then as the run lines show it (`1.2s`, `2m3s`). */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : formatDuration(ms);
}
