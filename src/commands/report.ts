/** `wf report <run>`: the run as one self-contained HTML page (report/html/render.ts). */
import { resolve } from "node:path";
import type { Io } from "../platform/io.ts";
import { writeFileAtomically } from "../platform/output.ts";
import { warnDamage } from "../report/failure.ts";
import { ReportRecords, reportPieces } from "../report/html/render.ts";
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
  const pieces = batched(reportPieces(run, records, { now: Date.now() }));
  if (opts.output === "-") {
    for (const piece of pieces) io.out(piece);
    return ok(0);
  }
  const path = resolve(io.cwd, opts.output ?? `${run.id}.html`);
  // Through a temporary file renamed over it: a failed write leaves no half page.
  const written = await writeFileAtomically(path, path, 0o666, async (sink) => {
    for (const piece of pieces) await sink.write(piece);
  });
  if (!written.ok) return written;
  // The path written, so that `open "$(wf report 7fQ2)"` works.
  io.out(`${inert(path)}\n`);
  return ok(0);
}

/** About this many characters per write: the page is written as it is made, in pieces of a useful size. */
const BATCH_CHARS = 1 << 20;

/** The pieces joined into batches of about BATCH_CHARS characters. */
function* batched(pieces: Iterable<string>): Generator<string> {
  let batch: string[] = [];
  let size = 0;
  for (const piece of pieces) {
    batch.push(piece);
    size += piece.length;
    if (size >= BATCH_CHARS) {
      yield batch.join("");
      batch = [];
      size = 0;
    }
  }
  if (size > 0) yield batch.join("");
}
