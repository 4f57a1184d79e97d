/**
 * The daemon's HTTP API on Fastify: JSON bodies validated by the routes' zod schemas (one
 * schema validates and describes each route in the OpenAPI document), errors as
 * `{ error: { code, message, details? } }` with a status the CLI maps to its exit codes, and
 * JSON lines for long answers (progress of an apply, `events --follow`).
 *
 * Two doors, both authenticated: a unix socket only the daemon's user can open (mode 0600, in
 * a directory made 0700), and optionally TCP with TLS that requires a client certificate from
 * the configured CA (auth.ts gives the roles). There is no plaintext TCP listener at all.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync, unlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createSecureServer, type Server as TlsServer } from "node:https";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { TLSSocket } from "node:tls";
import fastifySwagger from "@fastify/swagger";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from "fastify";
import {
  createSerializerCompiler,
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  validatorCompiler,
} from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { z } from "zod";
import { daemonVersion } from "../daemon/daemon.js";
import { type Actor, authorize, subjectText, tlsActor } from "./auth.js";
import { ApiError, errorBody, internalError, knownApiError } from "./errors.js";
import { peerUid } from "./peer-credentials.js";
import { errorResponse } from "./schemas.js";

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
  /** Who asked (for logs and, later, the audit record). */
  actor: Actor;
  /** Switches the answer to streamed JSON lines (status 200); the route then returns nothing. */
  stream(): LineStream;
}

/** An answer that is not JSON (the metrics text, the web page's files). */
export class RawAnswer {
  constructor(
    readonly contentType: string,
    readonly body: string | Buffer,
  ) {}
}

export type RouteHandler = (context: RouteContext) => Promise<unknown> | unknown;

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** `/v1/endpoints/:name`: `:x` segments become params. */
  path: string;
  handler: RouteHandler;
  /** What the OpenAPI document says the route does. */
  summary?: string;
  /** Left out of the OpenAPI document (the web page's files, the metrics text). */
  hidden?: boolean;
  schema?: {
    body?: z.ZodType;
    params?: z.ZodType;
    querystring?: z.ZodType;
    /** The 200 answer; of each line when `streams` is set. */
    response?: z.ZodType;
    /** Answers application/x-ndjson (always, or when the query asks). */
    streams?: boolean;
  };
}

export interface TlsListenerOptions {
  /** host:port; any address, since every connection must present a client certificate. */
  listen: string;
  cert: Buffer;
  key: Buffer;
  /** The CA that signs client certificates (only these are accepted). */
  clientCa: Buffer;
}

export interface ApiServerOptions {
  socketPath: string;
  tls?: TlsListenerOptions;
  routes: Route[];
  logger: Logger;
  /** Largest request body accepted (a 100k-endpoint fabric file is a few MB). */
  maxBodyBytes?: number;
}

export interface ApiServer {
  socketPath: string;
  /** The bound TLS address, when `tls` was given. */
  tcpAddress?: string;
  close(): Promise<void>;
}

export const defaultMaxBodyBytes = 64 * 1024 * 1024;

/** bigint (election ids, cookies) as decimal strings: JSON has no 64-bit integers. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

declare module "fastify" {
  interface FastifyRequest {
    actor?: Actor;
  }
  interface FastifyContextConfig {
    access?: "read" | "change";
  }
}

/**
 * The API as a Fastify app, not listening: `serverFactory` (when given) creates the server
 * the app answers on. The OpenAPI generator builds it this way with no daemon behind it.
 */
export async function buildApi(
  options: Pick<ApiServerOptions, "routes" | "logger" | "maxBodyBytes"> & {
    serverFactory?: (
      handler: (request: IncomingMessage, response: ServerResponse) => void,
    ) => ReturnType<typeof createServer>;
  },
): Promise<FastifyInstance> {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Requests are not logged one by one; changes and refusals are (onRequest, error handler).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(createSerializerCompiler({ replacer: jsonReplacer }));
  app.setReplySerializer((payload) => JSON.stringify(payload, jsonReplacer));
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "nvgre daemon API",
        version: daemonVersion,
        description:
          "The NVGRE gateway daemon's API (nvgre-ctl is its client). Unix socket (mode 0600), or TCP with TLS and a client certificate whose OU is the role: viewer (GET) or operator (changes).",
      },
    },
    transform: jsonSchemaTransform,
  });

  app.addHook("onRequest", async (request) => {
    const access = request.routeOptions.config.access ?? "read";
    const actor = await actorOf(request, access);
    request.actor = actor;
    authorize(actor, access, `${request.method} ${request.routeOptions.url ?? request.url}`);
    if (access === "change") {
      request.log.info(
        { actor: actor.name, method: request.method, url: request.url },
        "API change requested",
      );
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = asApiError(error, maxBodyBytes);
    if (apiError.status === 401 || apiError.status === 403) {
      request.log.warn(
        {
          actor: request.actor?.name ?? peerSubject(request),
          method: request.method,
          url: request.url,
          status: apiError.status,
        },
        `API request refused: ${apiError.message}`,
      );
    } else if (apiError.status >= 500) {
      request.log.error({ err: error, url: request.url }, "API handler failed");
    }
    reply.code(apiError.status).send(errorBody(apiError));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(404, "not-found", `no API route ${request.method} ${request.url}`);
    reply.code(404).send(errorBody(error));
  });

  for (const route of options.routes) registerRoute(app, route);
  app.get("/v1/openapi.json", { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
}

function registerRoute(app: FastifyInstance, route: Route): void {
  const schema = route.schema ?? {};
  app.route({
    method: route.method,
    url: route.path,
    config: { access: route.method === "GET" ? "read" : "change" },
    schema: {
      ...(route.hidden ? { hide: true } : {}),
      ...(route.summary ? { summary: route.summary } : {}),
      ...(schema.body ? { body: schema.body } : {}),
      ...(schema.params ? { params: schema.params } : {}),
      ...(schema.querystring ? { querystring: schema.querystring } : {}),
      ...(schema.response
        ? { response: { 200: schema.response, "4xx": errorResponse, "5xx": errorResponse } }
        : {}),
      ...(schema.streams ? { produces: ["application/json", "application/x-ndjson"] } : {}),
    },
    handler: async (request, reply) => {
      let streaming = false;
      try {
        const result = await route.handler({
          params: (request.params ?? {}) as Record<string, string>,
          query: new URL(request.url, "http://api").searchParams,
          body: request.body,
          actor: request.actor as Actor,
          stream: () => {
            streaming = true;
            reply.hijack();
            return lineStream(reply.raw);
          },
        });
        if (streaming) {
          reply.raw.end();
          return reply;
        }
        if (result instanceof RawAnswer) {
          return reply
            .type(result.contentType)
            .serializer((body) => body as string)
            .send(result.body);
        }
        return reply.send(result ?? {});
      } catch (error) {
        if (!streaming) throw error;
        // The status line went out already: the error is the stream's last line.
        const apiError = knownApiError(error) ?? internalError(error);
        if (apiError.status >= 500) request.log.error({ err: error }, "API handler failed");
        if (!reply.raw.writableEnded) reply.raw.end(`${JSON.stringify(errorBody(apiError))}\n`);
        return reply;
      }
    },
  });
}

/**
 * Who asks. On the socket (0600 in a 0700 directory) only the daemon's own user and root can
 * connect: a root daemon's callers are root, and another daemon's callers are looked up (a
 * few ms to a few hundred on a loaded host), for changes only, which are logged by actor.
 */
async function actorOf(request: FastifyRequest, access: "read" | "change"): Promise<Actor> {
  const socket = request.raw.socket as TLSSocket;
  if (socket.encrypted) return tlsActor(socket);
  const own = process.getuid?.();
  const uid = own === 0 ? 0 : access === "change" ? await peerUid(socket) : undefined;
  return {
    name: uid === undefined ? `uid:${own} or root` : `uid:${uid}`,
    role: "operator",
    transport: "unix",
  };
}

function peerSubject(request: FastifyRequest): string {
  const socket = request.raw.socket as TLSSocket;
  return socket.encrypted ? subjectText(socket.getPeerCertificate()) : "unix socket";
}

function asApiError(error: FastifyError, maxBodyBytes: number): ApiError {
  const known = knownApiError(error);
  if (known) return known;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? "request";
    const issues = error.validation.map((issue) => {
      const path = issue.instancePath.split("/").filter(Boolean).join(".");
      return `${path ? `${where}.${path}` : where}: ${issue.message}`;
    });
    return new ApiError(400, "bad-request", issues.join("; "));
  }
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new ApiError(
      413,
      "payload-too-large",
      `request body is over the API's limit of ${maxBodyBytes} bytes`,
    );
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError(400, "bad-request", error.message);
  }
  return internalError(error);
}

/**
 * Listens on the unix socket and, when asked, on TLS. Any failure (socket in use, address
 * refused, bad certificate) closes what was opened and throws: the API is whole or absent.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  await prepareSocketPath(options.socketPath);
  const app = await buildApi({
    ...options,
    serverFactory: (h) => {
      handler = h;
      return createServer(h);
    },
  });
  let tlsServer: TlsServer | undefined;
  let tcpAddress: string | undefined;
  try {
    await listenOnSocket(app, options.socketPath);
    if (options.tls) {
      tlsServer = createSecureServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ca: options.tls.clientCa,
          requestCert: true,
          // Checked per request (auth.ts), so a refusal is an HTTP 401 that is logged with the
          // subject the client presented, not a silent handshake failure.
          rejectUnauthorized: false,
          minVersion: "TLSv1.2",
        },
        handler,
      );
      tcpAddress = await listenTcp(tlsServer, options.tls.listen);
    }
  } catch (error) {
    await app.close();
    rmSync(options.socketPath, { force: true });
    throw error;
  }
  return {
    socketPath: options.socketPath,
    ...(tcpAddress ? { tcpAddress } : {}),
    async close() {
      const server = tlsServer;
      await Promise.all([
        app.close(),
        server &&
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ]);
    },
  };
}

/** Parses host:port (IPv6 in brackets). */
export function listenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || !match || port > 65535) {
    throw new Error(`listen address "${text}" is not host:port`);
  }
  return { host, port };
}

async function listenTcp(server: TlsServer, listen: string): Promise<string> {
  const { host, port } = listenAddress(listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${listen}: ${error.code ?? error.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return typeof bound === "object" && bound
    ? `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`
    : listen;
}

/**
 * A socket file left by a daemon that died is removed; one that still answers means another
 * daemon runs, which is an error, not a takeover.
 */
async function prepareSocketPath(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(socketPath)) return;
  if (!lstatSync(socketPath).isSocket()) {
    throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  }
  if (await socketAnswers(socketPath)) {
    throw new Error(`another daemon is already listening on ${socketPath}`);
  }
  unlinkSync(socketPath);
}

/** Binds the unix socket with mode 0600 from the moment it exists (bind happens in listen). */
async function listenOnSocket(app: FastifyInstance, socketPath: string): Promise<void> {
  const previous = process.umask(0o177);
  try {
    await app.listen({ path: socketPath });
  } finally {
    process.umask(previous);
  }
  // For file systems that ignore the umask on sockets.
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
