/** `{{.name}}` references in text: found, and substituted as plain text. */

export interface TemplateRef {
  readonly name: string;
  /** Offset of `{{` in the text. */
  readonly index: number;
  /** Length of the whole `{{ .name }}`. */
  readonly length: number;
}

const REF = /\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Every `{{.name}}` (spaces allowed inside the braces) in order of appearance. */
export function templateRefs(text: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  if (!text.includes("{{")) return refs;
  // exec, not matchAll: matchAll copies the expression on every call.
  REF.lastIndex = 0;
  for (let m = REF.exec(text); m !== null; m = REF.exec(text)) {
    refs.push({ name: m[1] ?? "", index: m.index, length: m[0].length });
  }
  return refs;
}

/**
 * Replaces each `{{.name}}` with its value. A reference with no value is left as written
 * and its name listed in `missing` (once), so callers decide whether that is an error.
 */
export function renderTemplate(
  text: string,
  lookup: (name: string) => string | undefined,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(REF, (whole, name: string) => {
    const value = lookup(name);
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return value;
  });
  return { text: out, missing };
}
