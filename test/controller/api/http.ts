/**
 * Raw HTTP requests to the daemon's API for tests that need the status and body as sent:
 * over its unix socket, or over TLS to its TCP listener with a client certificate (or none).
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Pem } from "../../../topologies/pki.js";

export interface Answer {
  status: number;
  body: string;
  contentType: string;
}

export type Door = { socket: string } | { address: string; ca: string; client?: Pem | undefined };

export function call(door: Door, method: string, path: string, body?: unknown): Promise<Answer> {
  const payload =
    body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const headers = payload
    ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
    : {};
  const common = { method, path, agent: false as const, headers };
  return new Promise((resolve, reject) => {
    const collect = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          contentType: String(response.headers["content-type"] ?? ""),
        }),
      );
    };
    const req =
      "socket" in door
        ? httpRequest({ ...common, socketPath: door.socket }, collect)
        : (() => {
            const url = new URL(`https://${door.address}`);
            return httpsRequest(
              {
                ...common,
                host: url.hostname.replace(/^\[|\]$/g, ""),
                port: Number(url.port),
                ca: readFileSync(door.ca),
                ...(door.client
                  ? { cert: readFileSync(door.client.cert), key: readFileSync(door.client.key) }
                  : {}),
              },
              collect,
            );
          })();
    req.on("error", reject);
    req.end(payload);
  });
}
