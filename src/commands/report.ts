/** `wf report <run>`: the run as one self-contained HTML page (report/html/render.ts). */
import { resolve } from "node:path";
import type { Io } from "../platform/io.ts";
import { writeFileAtomically } from "../platform/output.ts";
import { warnDamage } from "../report/failure.ts";
import { renderReport, ReportRecords } from "../report/html/render.ts";
import { openRun } from "../runs/open.ts";
import type { Outcome } from "../util/failure.ts";
import { ok } from "../util/result.ts";
import { inert } from "../report/inert.ts";

export interface ReportOptions {
  /** The file to write, relative to the directory wf was started in; `-` for stdout; default `<run id>.html`. */
  readonly output?: string;
}

export async function reportCommand(stateDir: string, prefix: string, opts: ReportOptions, io: Io): Promise<Outcome> {
  // For forensics, as wf show: a damaged journal is drawn from its intact lines, with a warning.
  // One pass: the page's timeline and values are collected as the journal is read, and no record is kept.
  const records = new ReportRecords();
  const opened = await openRun(stateDir, prefix, "report", { keepRecords: false, intactPrefix: true, onRecord: (r) => records.add(r) });
  if (!opened.ok) return opened;
  const run = opened.value;
  warnDamage(run, io);
  const html = renderReport(run, records, { now: Date.now() });
  if (opts.output === "-") {
    io.out(html);
    return ok(0);
  }
  const path = resolve(io.cwd, opts.output ?? `${run.id}.html`);
  // Through a temporary file renamed over it: a failed write leaves no half page.
  const written = await writeFileAtomically(path, path, 0o666, async (sink) => void (await sink.write(html)));
  if (!written.ok) return written;
  // The path written, so that `open "$(wf report 7fQ2)"` works.
  io.out(`${inert(path)}\n`);
  return ok(0);
}
