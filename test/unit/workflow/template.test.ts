import { test } from "node:test";
import assert from "node:assert/strict";
import { renderTemplate, templateRefs } from "../../../src/workflow/template.ts";

test("templateRefs finds {{.name}} with or without spaces", () => {
  assert.deepEqual(templateRefs("a {{.x}} b {{ .y_2 }}{{.x}}"), [
    { name: "x", index: 2, length: 6 },
    { name: "y_2", index: 11, length: 10 },
    { name: "x", index: 21, length: 6 },
  ]);
});

test("templateRefs ignores what is not a variable reference", () => {
  assert.deepEqual(templateRefs("{{x}} {{.}} {{.1a}} { {.a}} $x ${x}"), []);
});

test("renderTemplate substitutes text and lists missing names once", () => {
  const vars: Record<string, string> = { v: "1.2", e: "" };
  assert.deepEqual(renderTemplate("v={{.v}} e={{ .e }} {{.m}} {{.m}}", (n) => vars[n]), {
    text: "v=1.2 e= {{.m}} {{.m}}",
    missing: ["m"],
  });
});

test("renderTemplate inserts values literally, even with $ patterns", () => {
  assert.equal(renderTemplate("{{.a}}", () => "$& $1 $$").text, "$& $1 $$");
});
