import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeLine } from "../../../src/journal/line.ts";
import { EventSchema } from "../../../src/journal/events.ts";

/** journal-format.md at the project root, found from this file (run from test/ or dist/test/). */
function readDoc(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "journal-format.md"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("Internal error: journal-format.md not found above the test");
    dir = up;
  }
  return readFileSync(join(dir, "journal-format.md"), "utf8");
}

const examples = [...readDoc().matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) =>
  (m[1] ?? "").split("\n").filter((l) => l.trim() !== ""),
);

test("journal-format.md: every json example is a valid line with a correct CRC", () => {
  assert.ok(examples.length > 0);
  for (const line of examples) {
    const decoded = decodeLine(line);
    assert.ok(decoded.ok, `${decoded.ok ? "" : decoded.error}: ${line}`);
  }
});

test("journal-format.md: every event type has an example", () => {
  const documented = new Set(examples.map((l) => (JSON.parse(l) as { type: string }).type));
  const types = EventSchema.options.map((o) => o.entries.type.literal);
  assert.ok(types.length >= 11);
  for (const type of types) assert.ok(documented.has(type), `no example of "${type}"`);
});
