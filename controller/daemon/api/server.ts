/**
 * The daemon's local API: HTTP/1.1 with JSON bodies on a unix socket that only the daemon's
 * user may open (mode 0600, in a directory the daemon creates 0700), and optionally on a
 * loopback TCP port for tools that cannot open unix sockets. Nothing else ever listens: the
 * API changes the fabric, so it is never exposed beyond this host.
 *
 * A route answers with a JSON body, or streams newline-delimited JSON (progress of a long
 * apply, `events --follow`). Errors are `{ error: { code, message, details? } }` with an
 * HTTP status the CLI maps to its exit codes.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { dirname } from "node:path";
import ipaddr from "ipaddr.js";
import type { Logger } from "pino";
import type { ApiErrorBody, ApiErrorCode } from "./protocol.js";

/** An API failure with the status and code the client sees. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Lines of a streamed answer; `closed` turns true when the client goes away. */
export interface LineStream {
  write(line: unknown): void;
  readonly closed: boolean;
  onClose(listener: () => void): void;
}

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** Switches the answer to streamed JSON lines (status 200); the route then returns nothing. */
  stream(): LineStream;
}

export type RouteHandler = (context: RouteContext) => Promise<unknown> | unknown;

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** `/v1/endpoints/:name`: `:x` segments become params. */
  path: string;
  handler: RouteHandler;
}

export interface ApiServerOptions {
  socketPath: string;
  /** host:port on a loopback address, for clients without unix sockets. */
  listen?: string;
  routes: Route[];
  logger: Logger;
  /** Largest request body accepted (a 100k-endpoint fabric file is a few MB). */
  maxBodyBytes?: number;
}

export interface ApiServer {
  socketPath: string;
  /** The bound loopback address, when `listen` was given. */
  tcpAddress?: string;
  close(): Promise<void>;
}

const defaultMaxBody = 64 * 1024 * 1024;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const compiled = options.routes.map((route) => ({ ...route, pattern: compilePath(route.path) }));
  const handle = (request: IncomingMessage, response: ServerResponse) =>
    serve(request, response, compiled, options).catch((error: unknown) => {
      options.logger.error({ err: error }, "API request failed unexpectedly");
      if (!response.headersSent) sendError(response, internalError(error));
      else response.end();
    });

  const unixServer = createServer(handle);
  await listenOnSocket(unixServer, options.socketPath);
  const servers: Server[] = [unixServer];
  let tcpAddress: string | undefined;
  if (options.listen) {
    const { host, port } = loopbackAddress(options.listen);
    const tcpServer = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      tcpServer.once("error", reject);
      tcpServer.listen(port, host, () => resolve());
    });
    const bound = tcpServer.address();
    tcpAddress =
      typeof bound === "object" && bound
        ? `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`
        : options.listen;
    servers.push(tcpServer);
  }
  return {
    socketPath: options.socketPath,
    ...(tcpAddress ? { tcpAddress } : {}),
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** Parses host:port and refuses anything that is not a loopback address. */
export function loopbackAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || !match || port > 65535) {
    throw new ApiError(400, "bad-request", `listen address "${text}" is not host:port`);
  }
  const loopback =
    host === "localhost" || (ipaddr.isValid(host) && ipaddr.parse(host).range() === "loopback");
  if (!loopback) {
    throw new ApiError(
      400,
      "bad-request",
      `listen address "${text}" is not on loopback; the API never listens beyond this host`,
    );
  }
  return { host, port };
}

/**
 * Binds the unix socket with mode 0600. A socket file left by a daemon that died is removed;
 * one that still answers means another daemon runs, which is an error, not a takeover.
 */
async function listenOnSocket(server: Server, socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(socketPath)) {
    if (!lstatSync(socketPath).isSocket()) {
      throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
    }
    if (await socketAnswers(socketPath)) {
      throw new Error(`another daemon is already listening on ${socketPath}`);
    }
    unlinkSync(socketPath);
  }
  // The umask makes the socket 0600 from the moment it exists (bind happens inside listen());
  // the chmod after it is for file systems that ignore the umask on sockets.
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(socketPath, 0o600);
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

interface CompiledRoute extends Route {
  pattern: { regex: RegExp; names: string[] };
}

function compilePath(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      if (!segment.startsWith(":")) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(segment.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { regex: new RegExp(`^${source}$`), names };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  routes: CompiledRoute[],
  options: ApiServerOptions,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://nvgre-ctl");
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.regex.exec(url.pathname);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== request.method) continue;
    const params: Record<string, string> = {};
    route.pattern.names.forEach((name, i) => {
      params[name] = decodeURIComponent(match[i + 1] as string);
    });
    let streaming = false;
    try {
      const body = await readJsonBody(request, options.maxBodyBytes ?? defaultMaxBody);
      const result = await route.handler({
        params,
        query: url.searchParams,
        body,
        stream: () => {
          streaming = true;
          return lineStream(response);
        },
      });
      if (streaming) {
        response.end();
        return;
      }
      sendJson(response, 200, result ?? {});
    } catch (error) {
      const apiError = error instanceof ApiError ? error : internalError(error);
      if (!(error instanceof ApiError)) {
        options.logger.error({ err: error, route: route.path }, "API handler failed");
      }
      if (streaming) {
        // The status line went out already: the error is the stream's last line.
        if (!response.writableEnded) {
          response.end(`${JSON.stringify(errorBody(apiError))}\n`);
        }
        return;
      }
      sendError(response, apiError);
    }
    return;
  }
  sendError(
    response,
    pathMatched
      ? new ApiError(405, "bad-request", `${request.method} is not allowed on ${url.pathname}`)
      : new ApiError(404, "not-found", `no API route ${url.pathname}`),
  );
}

function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new ApiError(413, "bad-request", `request body is over ${maxBytes} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", reject);
    request.on("end", () => {
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(
          new ApiError(400, "bad-request", `request body is not JSON: ${(error as Error).message}`),
        );
      }
    });
  });
}

function lineStream(response: ServerResponse): LineStream {
  response.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
  // Headers go out now, so a client following events sees the stream open at once.
  response.flushHeaders();
  return {
    write(line) {
      if (!response.writableEnded && !response.destroyed) {
        response.write(`${JSON.stringify(line, jsonReplacer)}\n`);
      }
    },
    get closed() {
      return response.destroyed || response.writableEnded;
    },
    onClose(listener) {
      response.once("close", listener);
    },
  };
}

/** bigint (election ids, cookies) as decimal strings: JSON has no 64-bit integers. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, jsonReplacer);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

function errorBody(error: ApiError): ApiErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

function sendError(response: ServerResponse, error: ApiError): void {
  sendJson(response, error.status, errorBody(error));
}

function internalError(error: unknown): ApiError {
  return new ApiError(
    500,
    "internal",
    `the daemon failed: ${error instanceof Error ? error.message : String(error)}`,
  );
}
