/** Text and attribute values made safe to place in HTML or SVG. */
import { inert } from "../inert.ts";

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for an element's content or a double-quoted attribute; control
 * characters are shown escaped (`\x1b`), as on a terminal, rather than dropped
 * unseen by the browser.
 */
export function esc(text: string): string {
  return inert(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A number for an SVG attribute: at most one decimal, no exponent. */
export function num(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 10) / 10) : "0";
}
