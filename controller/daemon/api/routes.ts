/**
 * The local API's routes (protocol.ts lists them): each checks its request's shape, naming
 * the field that is wrong (400), and hands the work to the daemon.
 */
import { z } from "zod";
import type { Daemon } from "../daemon.js";
import type { EventKind } from "../events.js";
import {
  addEndpoint,
  addRoute,
  addVsid,
  deleteEndpoint,
  deleteRoute,
  deleteVsid,
  moveEndpoint,
} from "../intent-changes.js";
import {
  pickSessions,
  readCounters,
  readDrops,
  readTableEntries,
  readTables,
} from "../switch-reads.js";
import { rowsOf } from "../views.js";
import {
  type ApplyStreamLine,
  type EndpointAddRequest,
  type GetKind,
  getKinds,
  type RouteAddRequest,
  type RouteDeleteRequest,
  type VsidAddRequest,
} from "./protocol.js";
import { ApiError, type Route, type RouteContext } from "./server.js";

const changeFields = {
  dryRun: z.boolean().optional(),
  verbose: z.boolean().optional(),
  expectedRevision: z.int().min(0).optional(),
};

const location = z.union([
  z.strictObject({ switch: z.string(), port: z.int().min(0), vlan: z.int().optional() }),
  z.strictObject({ nve: z.string() }),
]);

const schemas = {
  apply: z.strictObject({
    text: z.string(),
    source: z.string().optional(),
    progress: z.boolean().optional(),
    ...changeFields,
  }),
  endpointAdd: z.strictObject({
    name: z.string(),
    vsid: z.int(),
    mac: z.string(),
    ips: z.array(z.string()).optional(),
    location,
    ...changeFields,
  }),
  endpointMove: z.strictObject({ location, ...changeFields }),
  change: z.strictObject(changeFields),
  vsidAdd: z.strictObject({
    vsid: z.int(),
    name: z.string(),
    tenant: z.string(),
    flood: z
      .union([z.literal("head-end"), z.strictObject({ multicastGroup: z.string() })])
      .optional(),
    learning: z
      .union([z.boolean(), z.strictObject({ local: z.boolean(), remote: z.boolean() })])
      .optional(),
    sourceGuard: z.boolean().optional(),
    paValidation: z.boolean().optional(),
    gateway: z.strictObject({ mac: z.string(), ips: z.array(z.string()) }).optional(),
    mtu: z.int().optional(),
    ...changeFields,
  }),
  routeAdd: z.strictObject({
    tenant: z.string(),
    prefix: z.string(),
    nextHop: z.strictObject({
      endpoint: z.string().optional(),
      vsid: z.int().optional(),
      nve: z.string().optional(),
      mac: z.string().optional(),
    }),
    ...changeFields,
  }),
  routeDelete: z.strictObject({ tenant: z.string(), prefix: z.string(), ...changeFields }),
};

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw new ApiError(400, "bad-request", `${what}: ${issues.join("; ")}`);
  }
  return result.data;
}

function changeOptions(
  body: {
    dryRun?: boolean | undefined;
    verbose?: boolean | undefined;
    expectedRevision?: number | undefined;
  },
  trigger: string,
) {
  return {
    trigger,
    dryRun: body.dryRun ?? false,
    verbose: body.verbose ?? false,
    ...(body.expectedRevision === undefined ? {} : { expectedRevision: body.expectedRevision }),
  };
}

function vsidParam(context: RouteContext): number {
  const text = context.params.vsid ?? "";
  const vsid = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : Number(text);
  if (!Number.isInteger(vsid)) throw new ApiError(400, "bad-request", `"${text}" is not a VSID`);
  return vsid;
}

export function daemonRoutes(daemon: Daemon): Route[] {
  const withFabric = () => {
    const fabric = daemon.fabric;
    if (!fabric)
      throw new ApiError(
        404,
        "not-found",
        "no intent yet: apply a fabric file first (nvgre-ctl apply -f FILE)",
      );
    return fabric;
  };
  return [
    { method: "GET", path: "/v1/status", handler: () => daemon.status() },
    {
      method: "GET",
      path: "/v1/intent",
      handler: () => ({ revision: daemon.revision, document: daemon.intentDocument ?? null }),
    },
    {
      method: "POST",
      path: "/v1/apply",
      handler: async (context) => {
        const body = parse(schemas.apply, context.body, "apply");
        const stream = context.stream();
        const result = await daemon.applyText(body.text, body.source ?? "fabric", {
          ...changeOptions(body, `apply ${body.source ?? "fabric"}`),
          ...(body.progress
            ? {
                progress: {
                  plan: (switches) =>
                    stream.write({ type: "plan", switches } satisfies ApplyStreamLine),
                  sent: (name, done, total) =>
                    stream.write({
                      type: "progress",
                      switch: name,
                      done,
                      total,
                    } satisfies ApplyStreamLine),
                },
              }
            : {}),
        });
        stream.write({ type: "result", result } satisfies ApplyStreamLine);
      },
    },
    {
      method: "GET",
      path: "/v1/get/:kind",
      handler: (context) => {
        const kind = context.params.kind as GetKind;
        if (!getKinds.includes(kind)) {
          throw new ApiError(400, "bad-request", `"${kind}" is not one of ${getKinds.join(", ")}`);
        }
        const fabric = daemon.fabric;
        return {
          kind,
          revision: daemon.revision,
          rows: fabric
            ? rowsOf(kind, fabric, (sw) => daemon.sessions.get(sw.name)?.connected ?? false)
            : [],
        };
      },
    },
    {
      method: "POST",
      path: "/v1/endpoints",
      handler: (context) => {
        const body = parse(schemas.endpointAdd, context.body, "endpoint add") as EndpointAddRequest;
        return daemon.editDocument(
          addEndpoint(body),
          changeOptions(body, `endpoint add ${body.name}`),
        );
      },
    },
    {
      method: "PUT",
      path: "/v1/endpoints/:name/location",
      handler: (context) => {
        const body = parse(schemas.endpointMove, context.body, "endpoint move");
        const name = context.params.name as string;
        return daemon.editDocument(
          moveEndpoint(name, body.location),
          changeOptions(body, `endpoint move ${name}`),
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/endpoints/:name",
      handler: (context) => {
        const body = parse(schemas.change, context.body, "endpoint del");
        const name = context.params.name as string;
        return daemon.editDocument(
          deleteEndpoint(name),
          changeOptions(body, `endpoint del ${name}`),
        );
      },
    },
    {
      method: "POST",
      path: "/v1/vsids",
      handler: (context) => {
        const body = parse(schemas.vsidAdd, context.body, "vsid add") as VsidAddRequest;
        return daemon.editDocument(
          addVsid(body),
          changeOptions(body, `vsid add 0x${body.vsid.toString(16)}`),
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/vsids/:vsid",
      handler: (context) => {
        const body = parse(schemas.change, context.body, "vsid del");
        const vsid = vsidParam(context);
        return daemon.editDocument(
          deleteVsid(vsid),
          changeOptions(body, `vsid del 0x${vsid.toString(16)}`),
        );
      },
    },
    {
      method: "POST",
      path: "/v1/routes",
      handler: (context) => {
        const body = parse(schemas.routeAdd, context.body, "route add") as RouteAddRequest;
        return daemon.editDocument(
          addRoute(body),
          changeOptions(body, `route add ${body.tenant} ${body.prefix}`),
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/routes",
      handler: (context) => {
        const body = parse(schemas.routeDelete, context.body, "route del") as RouteDeleteRequest;
        return daemon.editDocument(
          deleteRoute(body),
          changeOptions(body, `route del ${body.tenant} ${body.prefix}`),
        );
      },
    },
    {
      method: "GET",
      path: "/v1/counters",
      handler: (context) => {
        withFabric();
        const vsidText = context.query.get("vsid");
        return readCounters(
          pickSessions(daemon.sessions, context.query.get("switch")),
          daemon.pipeline,
          daemon.fabric,
          daemon.allocations,
          vsidText === null ? undefined : Number(vsidText),
        );
      },
    },
    {
      method: "GET",
      path: "/v1/drops",
      handler: (context) => {
        withFabric();
        return readDrops(
          pickSessions(daemon.sessions, context.query.get("switch")),
          daemon.pipeline,
        );
      },
    },
    {
      method: "GET",
      path: "/v1/tables/:switch",
      handler: (context) => {
        const [session] = pickSessions(daemon.sessions, context.params.switch ?? "");
        return readTables(session as NonNullable<typeof session>, daemon.pipeline);
      },
    },
    {
      method: "GET",
      path: "/v1/tables/:switch/:table",
      handler: (context) => {
        const [session] = pickSessions(daemon.sessions, context.params.switch ?? "");
        return readTableEntries(
          session as NonNullable<typeof session>,
          daemon.pipeline,
          daemon.codec,
          context.params.table as string,
        );
      },
    },
    {
      method: "GET",
      path: "/v1/events",
      handler: (context) => {
        const kinds = new Set(
          context.query.getAll("kind").flatMap((k) => k.split(",")) as EventKind[],
        );
        const switchName = context.query.get("switch");
        const last = Number(context.query.get("last") ?? daemon.events.capacity);
        const wanted = (event: { kind: EventKind; switch?: string }) =>
          (kinds.size === 0 || kinds.has(event.kind)) &&
          (!switchName || event.switch === switchName);
        const past = daemon.events.since(0).filter(wanted);
        const recent = past.slice(Math.max(0, past.length - last));
        if (context.query.get("follow") !== "1") return { events: recent };
        const stream = context.stream();
        for (const event of recent) stream.write(event);
        return new Promise<void>((resolve) => {
          const stop = daemon.events.subscribe((event) => {
            if (wanted(event)) stream.write(event);
          });
          stream.onClose(() => {
            stop();
            resolve();
          });
        });
      },
    },
  ];
}
