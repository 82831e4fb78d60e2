/**
 * Where a command's output of any size goes, chunk by chunk and with
 * backpressure: stdout, or a file written through a temporary file in the same
 * folder and renamed over it once whole, so that a failed write (a full disk)
 * leaves neither a half file nor the temporary one.
 */
import { randomBytes } from "node:crypto";
import { lstat, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Failure, type FsProblem, fsProblem } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";
import type { Io } from "./io.ts";

/** A destination for bytes. */
export interface ByteSink {
  /** Writes one chunk; resolves false once nothing more can be taken, and the writer stops. */
  write(chunk: Uint8Array | string): Promise<boolean>;
}

/** stdout: a chunk is handed over, then the writer waits until stdout can take more. */
export function stdoutSink(io: Io): ByteSink {
  return {
    write: (chunk) => {
      io.out(chunk);
      return io.drain === undefined ? Promise.resolve(true) : io.drain();
    },
  };
}

const encoder = new TextEncoder();

/**
 * Writes `path` with what `produce` writes to its sink: into a temporary file
 * beside it (created, never followed nor reused), synced, then renamed over
 * `path`. On a failure the temporary file is removed and `path` is left as it
 * was; the failure names `shown`, the path as the user gave it. Only nothing
 * or a regular file at `path` is replaced: the rename would put the file in
 * place of a folder, a symbolic link or (for root) a device such as /dev/null.
 */
export async function writeFileAtomically(
  path: string,
  shown: string,
  mode: number,
  produce: (sink: ByteSink) => Promise<void>,
): Promise<Result<void, Failure>> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const failed = (e: unknown): Result<void, Failure> => {
    const problem = fsProblem(e);
    if (problem === undefined) throw e;
    return err({ kind: "fs", action: "write", path: shown, problem });
  };
  const replaced = await replaceableProblem(path);
  if (replaced !== undefined) return err({ kind: "fs", action: "write", path: shown, problem: replaced });
  let fh;
  try {
    fh = await open(temp, "wx", mode);
  } catch (e) {
    return failed(e);
  }
  let problem: unknown;
  const sink: ByteSink = {
    write: async (chunk) => {
      if (problem !== undefined) return false;
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      try {
        for (let done = 0; done < bytes.length;) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
        return true;
      } catch (e) {
        problem = e;
        return false;
      }
    },
  };
  try {
    await produce(sink);
    if (problem === undefined) await fh.sync();
  } catch (e) {
    problem ??= e;
  }
  try {
    await fh.close();
  } catch (e) {
    problem ??= e;
  }
  if (problem === undefined) {
    try {
      await rename(temp, path);
      return ok(undefined);
    } catch (e) {
      problem = e;
    }
  }
  await unlink(temp).catch(() => {});
  return failed(problem);
}

/** Why what is at `path` must not be replaced by a file, if it must not; nothing there, or a regular file, is fine. */
async function replaceableProblem(path: string): Promise<FsProblem | undefined> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (e) {
    const problem = fsProblem(e);
    if (problem === undefined) throw e;
    return problem === "missing" ? undefined : problem;
  }
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return "is-a-directory";
  return stats.isSymbolicLink() ? "symbolic-link" : "not-a-file";
}
