/**
 * The API's OpenAPI 3 document, generated from the routes' zod schemas (the ones that
 * validate requests). `make openapi` writes it to controller/api/openapi.json; a test checks
 * the committed file is what this generates. Run: node dist/controller/api/openapi.js FILE
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import type { Daemon } from "../daemon/daemon.js";
import { daemonRoutes } from "./routes.js";
import { buildApi } from "./server.js";

/** Route handlers never run while generating: no daemon stands behind this document. */
const noDaemon = new Proxy({} as Daemon, {
  get() {
    throw new Error("the OpenAPI generator has no daemon");
  },
});

export async function openApiDocument(): Promise<unknown> {
  const app = await buildApi({ routes: daemonRoutes(noDaemon), logger: pino({ level: "silent" }) });
  try {
    return app.swagger();
  } finally {
    await app.close();
  }
}

/** The committed file's text: two-space JSON with a final newline (as biome formats it). */
export async function openApiText(): Promise<string> {
  return `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const out = process.argv[2];
  if (!out) throw new Error("usage: openapi.js OUTPUT.json");
  writeFileSync(out, await openApiText());
}
