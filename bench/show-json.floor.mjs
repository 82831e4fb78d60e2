// The floor `wf show --json` is measured against: read the journal, split it
// into lines and JSON.parse each one. No checks, no fold, no output.
//
//   node bench/show-json.floor.mjs <journal.jsonl>
import { readFileSync } from "node:fs";

const text = readFileSync(process.argv[2], "utf8");
let count = 0;
for (const line of text.split("\n")) {
  if (line === "") continue;
  JSON.parse(line);
  count++;
}
if (count === 0) process.exitCode = 1;
