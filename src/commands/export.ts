/**
 * `wf export <run>`: the run as one JSON document, or `--format tar` with its
 * journal, workflow copy and logs. Both are streamed, a tar's files in chunks
 * of 1 MiB, so memory stays bounded whatever the size of the logs; `-o FILE` is
 * written through a temporary file renamed over it (platform/output.ts).
 */
import { constants } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { JOURNAL_FILE } from "../journal/writer.ts";
import type { Io } from "../platform/io.ts";
import { type ByteSink, stdoutSink, writeFileAtomically } from "../platform/output.ts";
import { SPAWN_LOG } from "../platform/job.ts";
import { openRun, type OpenedRun as LoadedRun } from "../runs/open.ts";
import type { Outcome } from "../util/failure.ts";
import { err, ok } from "../util/result.ts";
import { TAR_END, type TarEntry, tarHeader, tarPadding } from "../report/tar.ts";
import { warnDamage } from "../report/failure.ts";
import { runStateJson } from "./show.ts";

export interface ExportOptions {
  readonly format: "json" | "tar";
  readonly output?: string;
  /** stdout is a terminal: a tar is not written there. */
  readonly stdoutIsTty: boolean;
}

/** The JSON document: `run` is `wf show --json`, `records` every journal line as parsed, `workflow_toml` the copy. */
export async function exportJson(run: LoadedRun): Promise<Record<string, unknown>> {
  const toml = await readFile(join(run.dir, "workflow.toml"), "utf8").catch(() => null);
  return {
    format: "wf-export",
    version: 1,
    run: runStateJson(run),
    workflow_toml: toml,
    records: run.records,
  };
}

/** A member of the tar: its header's fields, and the file its data is streamed from (none for a folder or run.json). */
interface Member {
  readonly entry: TarEntry;
  readonly path?: string;
}

/** The tar's members, under a folder named after the run. The journal is exported as it is on disk, torn tail included. */
async function exportMembers(run: LoadedRun): Promise<Member[]> {
  const base = `${run.id}/`;
  const st = await stat(run.dir);
  const mtime = st.mtimeMs / 1000;
  const members: Member[] = [{ entry: { name: base, mtime } }];
  const encoder = new TextEncoder();
  members.push({ entry: { name: `${base}run.json`, data: encoder.encode(`${JSON.stringify(runStateJson(run), null, 2)}\n`), mtime } });
  const top = (await readdir(run.dir)).sort();
  for (const name of top) {
    if (name === JOURNAL_FILE || name === "workflow.toml" || name === SPAWN_LOG || name.startsWith(`${JOURNAL_FILE}.torn-`)) {
      members.push({ entry: { name: `${base}${name}` }, path: join(run.dir, name) });
    }
  }
  const logs = await readdir(join(run.dir, "logs")).catch(() => [] as string[]);
  members.push({ entry: { name: `${base}logs/`, mtime } });
  for (const name of logs.sort()) members.push({ entry: { name: `${base}logs/${name}` }, path: join(run.dir, "logs", name) });
  return members;
}

const CHUNK = 1 << 20;

/**
 * Streams one file of the run's folder as a tar member: a regular file only (a
 * symbolic link or anything else planted there is left out, never followed),
 * with the size it had when opened. A file that grows meanwhile (a live run's
 * log) is cut there; one that shrinks is padded with zeros, so the archive
 * stays whole. False once the sink takes nothing more.
 */
async function streamFile(sink: ByteSink, entry: TarEntry, path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return true; // removed meanwhile, or a link
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return true;
    if (!(await sink.write(tarHeader({ ...entry, size: st.size, mtime: st.mtimeMs / 1000 })))) return false;
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(st.size, 1)));
    let done = 0;
    while (done < st.size) {
      const want = Math.min(buf.length, st.size - done);
      const { bytesRead } = await fh.read(buf, 0, want, done);
      // A chunk is copied: the sink may still hold the one before while this one is read.
      const chunk = bytesRead === 0 ? new Uint8Array(want) : buf.slice(0, bytesRead);
      done += chunk.length;
      if (!(await sink.write(chunk))) return false;
    }
    return sink.write(tarPadding(st.size));
  } finally {
    await fh.close();
  }
}

/** The tar, member by member: no more than one chunk of a file is held at a time. */
async function writeTar(run: LoadedRun, sink: ByteSink): Promise<void> {
  for (const m of await exportMembers(run)) {
    if (m.path !== undefined) {
      if (!(await streamFile(sink, m.entry, m.path))) return;
      continue;
    }
    if (!(await sink.write(tarHeader(m.entry)))) return;
    const data = m.entry.data;
    if (data !== undefined && data.length > 0 && !((await sink.write(data)) && (await sink.write(tarPadding(data.length))))) return;
  }
  await sink.write(TAR_END);
}

/**
 * The JSON document as exportJson() and `JSON.stringify(doc, null, 2)` give
 * it, byte for byte, but written record by record (a batch of about 64 KiB at
 * a time), so no second copy of the records is built as one string.
 */
async function writeJson(run: LoadedRun, sink: ByteSink): Promise<void> {
  const doc = await exportJson(run);
  const head = JSON.stringify({ ...doc, records: [] }, null, 2);
  // `records` is the document's last key: its `[]` ends the text, before the closing brace.
  const cut = head.lastIndexOf("[]");
  if (run.records.length === 0) {
    await sink.write(`${head}\n`);
    return;
  }
  let batch = `${head.slice(0, cut)}[\n`;
  for (let i = 0; i < run.records.length; i++) {
    // A record at depth 2 is indented by 4; JSON text holds no raw newline but between tokens.
    batch += `    ${JSON.stringify(run.records[i], null, 2).replaceAll("\n", "\n    ")}${i + 1 < run.records.length ? ",\n" : "\n"}`;
    if (batch.length >= 1 << 16) {
      if (!(await sink.write(batch))) return;
      batch = "";
    }
  }
  await sink.write(`${batch}  ]\n}\n`);
}

export async function exportCommand(
  stateDir: string,
  prefix: string,
  opts: ExportOptions,
  io: Io,
): Promise<Outcome> {
  // `-o -` is stdout, as for `wf report`.
  const output = opts.output === "-" ? undefined : opts.output;
  if (opts.format === "tar" && output === undefined && opts.stdoutIsTty) {
    return err({ kind: "usage", message: "Cannot write a tar archive to a terminal: pass -o FILE or redirect the output" });
  }
  // Exported for forensics: a damaged journal's intact lines are exported as read, and the tar holds the file as it is.
  const opened = await openRun(stateDir, prefix, "export", { keepRecords: true, intactPrefix: true });
  if (!opened.ok) return opened;
  const run = opened.value;
  warnDamage(run, io);
  const write = (sink: ByteSink) => (opts.format === "tar" ? writeTar(run, sink) : writeJson(run, sink));
  if (output === undefined) {
    // A failed write to stdout is reported once it is flushed (cli/main.ts).
    await write(stdoutSink(io));
    return ok(0);
  }
  const written = await writeFileAtomically(resolve(io.cwd, output), output, 0o600, write);
  return written.ok ? ok(0) : written;
}
