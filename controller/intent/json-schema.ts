/**
 * The fabric file's JSON Schema, generated from the zod schema (schema.ts) so the two never
 * disagree. Published as controller/intent/fabric.schema.json (`make fabric-schema`; a test checks it is
 * fresh) for editors (yaml-language-server) and for tools that generate fabric files.
 * Run as a program it writes the schema to the path given.
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { fabricFileSchema } from "./schema.js";

export function fabricJsonSchema(): string {
  // "input": what a file may say (defaults optional, VSIDs as integers or "0x…" strings).
  const schema = z.toJSONSchema(fabricFileSchema, { io: "input", target: "draft-2020-12" });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write("usage: json-schema.js OUTPUT.json\n");
    process.exit(2);
  }
  writeFileSync(out, fabricJsonSchema());
}
