/**
 * `.dev.vars` of `wrangler dev`, rendered from the committed template `.dev.vars.example`: the
 * gateway's secret and the URLs of the functions it calls. The secret of an existing file is kept
 * (the functions are started with it), the URLs follow the ports of this run; any other line the user
 * added stays.
 */
import { readFile, writeFile } from "node:fs/promises";
import { generateSecret } from "../../../lib/webhooks/standard-webhooks.js";

export interface DevVarsInput {
  ingestPort: number;
  queryPort: number;
  modelPackId: string;
}

/** `KEY=VALUE` lines (comments and blanks skipped; no quoting, as the template writes none). */
export function parseDotVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trimStart().startsWith("#")) vars.set(m[1]!, m[2]!);
  }
  return vars;
}

/** The template with its `{{NAME}}` placeholders filled; an unknown placeholder is an error. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`.dev.vars template: no value for {{${name}}}`);
    return value;
  });
}

/** Writes `path` from `templatePath`; returns the variables as written. */
export async function writeDevVars(
  path: string,
  templatePath: string,
  input: DevVarsInput,
): Promise<Map<string, string>> {
  const existing = parseDotVars(await readFile(path, "utf8").catch(() => ""));
  const secret = existing.get("WEBHOOK_SECRET") || generateSecret();
  const fresh = renderTemplate(await readFile(templatePath, "utf8"), {
    WEBHOOK_SECRET: secret,
    INGEST_PORT: String(input.ingestPort),
    QUERY_PORT: String(input.queryPort),
    MODEL_PACK_ID: input.modelPackId,
  });
  const ours = parseDotVars(fresh);
  const extra = [...existing].filter(([k]) => !ours.has(k)).map(([k, v]) => `${k}=${v}`);
  const text = extra.length
    ? `${fresh.trimEnd()}\n# kept from the previous file\n${extra.join("\n")}\n`
    : fresh;
  await writeFile(path, text, { mode: 0o600 });
  return parseDotVars(text);
}
