/** The run ids present in a state directory. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

export async function listRunIds(stateDir: string): Promise<string[]> {
  try {
    return await readdir(join(stateDir, "runs"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}
