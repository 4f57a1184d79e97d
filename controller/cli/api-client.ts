/**
 * The CLI's side of the daemon's API: HTTP over the unix socket (or HTTPS with a client
 * certificate to its TCP listener), JSON in and out, streamed JSON lines for long operations. Failures become
 * CliErrors with the exit status scripts rely on: no daemon → 3, invalid intent → 4, …
 */
import { readFileSync, statSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import type { ApiErrorBody, IntentIssueView } from "../daemon/protocol.js";
import { CliError, ExitCode, type ExitStatus } from "./exit-codes.js";
import { issueLine } from "./intent-errors.js";

export interface ApiTarget {
  /** Unix socket path, or `https://HOST:PORT` for the TCP listener (mTLS). */
  socket: string;
  /** PEM files for https: our certificate and key, the CA of the daemon's certificate. */
  cert?: string | undefined;
  key?: string | undefined;
  cacert?: string | undefined;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

export class ApiClient {
  constructor(readonly target: ApiTarget) {}

  /** One request, one JSON answer. */
  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await readAll(response);
    const parsed = parseJson(text, path);
    if ((response.statusCode ?? 500) >= 400)
      throw this.apiFailure(response.statusCode ?? 500, parsed);
    return parsed as T;
  }

  /**
   * A request answered with JSON lines: `onLine` sees each; an error line (or status) ends it
   * with the matching CliError. Resolves when the daemon ends the stream.
   */
  async stream(
    method: Method,
    path: string,
    body: unknown,
    onLine: (line: unknown) => void,
  ): Promise<void> {
    const response = await this.send(method, path, body);
    if ((response.statusCode ?? 500) >= 400) {
      throw this.apiFailure(response.statusCode ?? 500, parseJson(await readAll(response), path));
    }
    for await (const text of createInterface({
      input: response,
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      if (text.trim() === "") continue;
      const line = parseJson(text, path);
      if (isErrorBody(line)) throw this.apiFailure(200, line);
      onLine(line);
    }
  }

  private async send(method: Method, path: string, body: unknown): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const remote = this.target.socket.startsWith("https://");
    // A unix socket has no TLS name: an empty one spares node's agent from deriving it, which
    // compiles its IPv6 pattern to test "localhost" (about 8 ms of a 110 ms `status`).
    const where = remote ? this.tlsTarget() : { socketPath: this.target.socket, servername: "" };
    // Loaded on the first request: `--help` and the offline commands never pay for node:http.
    const { request } = remote ? await import("node:https") : await import("node:http");
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...where,
          // A fresh connection per request, closed after it: a CLI must not linger on keep-alive.
          agent: false,
          method,
          path,
          headers: payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {},
        },
        resolve,
      );
      req.on("error", (error: NodeJS.ErrnoException) => reject(this.unreachable(error)));
      req.end(payload);
    });
  }

  private tlsTarget() {
    const url = new URL(this.target.socket);
    const read = (what: string, path: string | undefined) => {
      if (!path) return undefined;
      try {
        return readFileSync(path);
      } catch (error) {
        throw new CliError(
          `cannot read ${what} ${path}: ${(error as Error).message}`,
          ExitCode.usage,
        );
      }
    };
    const cert = read("--cert", this.target.cert);
    const key = read("--key", this.target.key);
    const ca = read("--cacert", this.target.cacert);
    return {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(ca ? { ca } : {}),
    };
  }

  private unreachable(error: NodeJS.ErrnoException): CliError {
    const notSocket = this.notASocket();
    const why = notSocket
      ? `it is not a socket but ${notSocket} (give the daemon's socket with --socket)`
      : error.code === "ENOENT"
        ? "no such socket (is the daemon running? start it with `nvgre-ctl run`)"
        : error.code === "ECONNREFUSED"
          ? "connection refused (the daemon is not running; a stale socket file is left)"
          : error.code === "EACCES"
            ? "permission denied (the socket is mode 0600: run as the daemon's user)"
            : error.message;
    return new CliError(
      `cannot reach the nvgre daemon at ${this.target.socket}: ${why}`,
      ExitCode.unreachable,
    );
  }

  /** What the --socket path is when it exists and is not a socket ("a regular file", …). */
  private notASocket(): string | undefined {
    if (this.target.socket.startsWith("tcp://")) return undefined;
    try {
      const stat = statSync(this.target.socket);
      if (stat.isSocket()) return undefined;
      return stat.isDirectory()
        ? "a directory"
        : stat.isFile()
          ? "a regular file"
          : "a device or pipe";
    } catch {
      return undefined;
    }
  }

  private apiFailure(status: number, body: unknown): CliError {
    if (!isErrorBody(body)) {
      return new CliError(
        `the daemon answered HTTP ${status} without an error message`,
        ExitCode.failed,
      );
    }
    const { code, message, details } = body.error;
    const exitCode: ExitStatus =
      code === "invalid-intent" || code === "payload-too-large"
        ? ExitCode.invalidIntent
        : code === "conflict"
          ? ExitCode.conflict
          : code === "bad-request"
            ? ExitCode.usage
            : ExitCode.failed;
    const lines =
      code === "invalid-intent" && Array.isArray(details)
        ? (details as IntentIssueView[]).map(issueLine)
        : [];
    return new CliError(message, exitCode, lines);
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    "error" in value &&
    typeof (value as ApiErrorBody).error?.message === "string"
  );
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
  });
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(
      `the daemon's answer to ${path} is not JSON: ${text.slice(0, 200)}`,
      ExitCode.failed,
    );
  }
}
