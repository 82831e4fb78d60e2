// The floor bench/validate.sh compares `wf validate` with: start node, read the
// file and parse its TOML with smol-toml, nothing else.
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";

const doc = parse(readFileSync(process.argv[2], "utf8"));
if (typeof doc !== "object") process.exit(1);
