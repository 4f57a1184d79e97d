/**
 * The daemon's read-only web view (web/: plain HTML, JavaScript and CSS, committed, no build
 * step, nothing from a CDN): served at / beside the API it reads, so it needs what any GET
 * needs (the unix socket's user, or a client certificate on the TCP listener).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RawAnswer, type Route } from "./server.js";

/** The page's files, from the source tree (dist/ holds only compiled TypeScript). */
const webDir = fileURLToPath(new URL("../../../controller/api/web/", import.meta.url));

const files: { path: string; file: string; contentType: string }[] = [
  { path: "/", file: "index.html", contentType: "text/html; charset=utf-8" },
  { path: "/web/app.js", file: "app.js", contentType: "text/javascript; charset=utf-8" },
  { path: "/web/style.css", file: "style.css", contentType: "text/css; charset=utf-8" },
];

export function webRoutes(): Route[] {
  return files.map(({ path, file, contentType }) => {
    const body = readFileSync(`${webDir}${file}`);
    return {
      method: "GET",
      path,
      hidden: true,
      handler: () => new RawAnswer(contentType, body),
    };
  });
}
