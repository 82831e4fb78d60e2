// The journal pass of `wf resume`, alone: what resume does before it plans
// (open the journal for append, checking, ordering and folding every line in
// one pass), with the project's own code (dist/), then nothing is appended.
// bench/show-json.sh times it beside its floor.
//
//   node bench/resume-open.mjs <journal.jsonl> <run id>
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const { openJournalForAppend } = await import(join(root, "dist/src/journal/writer.js"));
const { JournalFold } = await import(join(root, "dist/src/journal/fold.js"));

const [path, runId] = process.argv.slice(2);
const fold = new JournalFold();
const opened = await openJournalForAppend({ path, runId, writer: "bench", onRecord: (r) => fold.add(r) });
if (!opened.ok) {
  console.error(`cannot open ${path}: ${JSON.stringify(opened.error)}`);
  process.exit(1);
}
await opened.value.writer.close();
const state = fold.finish(false);
if (!state.ok) {
  console.error(`cannot fold ${path}`);
  process.exit(1);
}
