/** `wf export <run>`: the run as one JSON document, or `--format tar` with its journal, workflow copy and logs. */
import { lstat, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JOURNAL_FILE } from "../journal/writer.ts";
import type { Io } from "../platform/io.ts";
import { SPAWN_LOG } from "../platform/job.ts";
import { openRun, type OpenedRun as LoadedRun } from "../runs/open.ts";
import { fsProblem, type Outcome } from "../util/failure.ts";
import { err, ok } from "../util/result.ts";
import { tarArchive, type TarEntry } from "../report/tar.ts";
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

/** A regular file of the run's folder; a symbolic link or anything else planted there is left out, never followed. */
async function fileEntry(path: string, name: string): Promise<TarEntry | undefined> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) return undefined;
    const data = await readFile(path);
    return { name, data, mtime: st.mtimeMs / 1000 };
  } catch {
    return undefined;
  }
}

/** The tar's entries, under a folder named after the run. The journal is exported as it is on disk, torn tail included. */
export async function exportEntries(run: LoadedRun): Promise<TarEntry[]> {
  const base = `${run.id}/`;
  const st = await stat(run.dir);
  const entries: TarEntry[] = [{ name: base, mtime: st.mtimeMs / 1000 }];
  const encoder = new TextEncoder();
  entries.push({ name: `${base}run.json`, data: encoder.encode(`${JSON.stringify(runStateJson(run), null, 2)}\n`), mtime: st.mtimeMs / 1000 });
  const top = (await readdir(run.dir)).sort();
  for (const name of top) {
    if (name === JOURNAL_FILE || name === "workflow.toml" || name === SPAWN_LOG || name.startsWith(`${JOURNAL_FILE}.torn-`)) {
      const e = await fileEntry(join(run.dir, name), `${base}${name}`);
      if (e !== undefined) entries.push(e);
    }
  }
  const logs = await readdir(join(run.dir, "logs")).catch(() => [] as string[]);
  entries.push({ name: `${base}logs/`, mtime: st.mtimeMs / 1000 });
  for (const name of logs.sort()) {
    const e = await fileEntry(join(run.dir, "logs", name), `${base}logs/${name}`);
    if (e !== undefined) entries.push(e);
  }
  return entries;
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
  const data: string | Uint8Array =
    opts.format === "tar" ? tarArchive(await exportEntries(run)) : `${JSON.stringify(await exportJson(run), null, 2)}\n`;
  if (output === undefined) {
    io.out(data);
    return ok(0);
  }
  try {
    await writeFile(output, data, { mode: 0o600 });
  } catch (e) {
    const problem = fsProblem(e);
    if (problem === undefined) throw e;
    return err({ kind: "fs", action: "write", path: output, problem });
  }
  return ok(0);
}
