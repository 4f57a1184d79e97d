/**
 * The API's routes (daemon/protocol.ts lists them): each names its request and answer
 * schemas (schemas.ts; Fastify validates the request, 400 naming the field) and hands the
 * work to the daemon, whose domain errors errors.ts maps to statuses.
 */
import type { z } from "zod";
import type { Daemon } from "../daemon/daemon.js";
import type { EventKind } from "../daemon/events.js";
import {
  addEndpoint,
  addRoute,
  addVsid,
  deleteEndpoint,
  deleteRoute,
  deleteVsid,
  moveEndpoint,
} from "../daemon/intent-changes.js";
import type {
  ApplyStreamLine,
  DiffResponse,
  EndpointAddRequest,
  GetKind,
  HistoryResponse,
  RollbackRequest,
  RouteAddRequest,
  RouteDeleteRequest,
  VsidAddRequest,
} from "../daemon/protocol.js";
import { recordedChanges } from "../daemon/stored-intent.js";
import {
  pickSessions,
  readCounters,
  readDrops,
  readTableEntries,
  readTables,
} from "../daemon/switch-reads.js";
import { rowsOf } from "../daemon/views.js";
import { ApiError } from "./errors.js";
import type { DaemonMetrics } from "./metrics.js";
import { params, queries, requests, responses } from "./schemas.js";
import { RawAnswer, type Route, type RouteContext } from "./server.js";

/** A change's options: who asked (the history's actor) and what for, from the request. */
function changeOptions(
  context: RouteContext,
  body: {
    dryRun?: boolean | undefined;
    verbose?: boolean | undefined;
    expectedRevision?: number | undefined;
  },
  trigger: string,
) {
  return {
    trigger,
    actor: context.actor.name,
    dryRun: body.dryRun ?? false,
    verbose: body.verbose ?? false,
    ...(body.expectedRevision === undefined ? {} : { expectedRevision: body.expectedRevision }),
  };
}

/** A VSID as the schemas let it through: decimal or 0x hex. */
function vsidOf(text: string): number {
  return /^0x/i.test(text) ? Number.parseInt(text, 16) : Number(text);
}

/** The request body of a DELETE, which may have none. */
function changeBody(context: RouteContext): { dryRun?: boolean; expectedRevision?: number } {
  return (context.body ?? {}) as { dryRun?: boolean; expectedRevision?: number };
}

export function daemonRoutes(daemon: Daemon): Route[] {
  const withFabric = () => {
    if (!daemon.fabric) {
      throw new ApiError(
        404,
        "not-found",
        "no intent yet: apply a fabric file first (nvgre-ctl apply -f FILE)",
      );
    }
  };
  return [
    {
      method: "GET",
      path: "/v1/status",
      summary: "The daemon and each switch: connected, primary, pipeline, drift, last reconcile",
      schema: { response: responses.status },
      handler: () => daemon.status(),
    },
    {
      method: "GET",
      path: "/v1/intent",
      summary: "The stored fabric document and its revision",
      schema: { response: responses.intent },
      handler: () => ({ revision: daemon.revision, document: daemon.intentDocument ?? null }),
    },
    {
      method: "POST",
      path: "/v1/apply",
      summary: "Apply a fabric file: validate, store, reconcile every switch (JSON lines)",
      schema: { body: requests.apply, response: responses.applyLine, streams: true },
      handler: async (context) => {
        const body = context.body as z.output<typeof requests.apply>;
        const stream = context.stream();
        const result = await daemon.applyText(body.text, body.source ?? "fabric", {
          ...changeOptions(context, body, `apply ${body.source ?? "fabric"}`),
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
      summary: "The intent's switches, VSIDs, endpoints, NVEs or routes as flat rows",
      schema: { params: params.kind, response: responses.get },
      handler: (context) => {
        const kind = context.params.kind as GetKind;
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
      summary: "Add an endpoint",
      schema: { body: requests.endpointAdd, response: responses.change },
      handler: (context) => {
        const body = context.body as EndpointAddRequest;
        return daemon.editResources(
          addEndpoint(body),
          changeOptions(context, body, `endpoint add ${body.name}`),
        );
      },
    },
    {
      method: "PUT",
      path: "/v1/endpoints/:name/location",
      summary: "Move an endpoint (to a switch port or behind an NVE)",
      schema: { params: params.endpoint, body: requests.endpointMove, response: responses.change },
      handler: (context) => {
        const body = context.body as z.output<typeof requests.endpointMove>;
        const name = context.params.name as string;
        return daemon.editResources(
          moveEndpoint(name, body.location),
          changeOptions(context, body, `endpoint move ${name}`),
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/endpoints/:name",
      summary: "Delete an endpoint",
      schema: {
        params: params.endpoint,
        body: requests.change.optional(),
        response: responses.change,
      },
      handler: (context) => {
        const name = context.params.name as string;
        return daemon.editResources(
          deleteEndpoint(name),
          changeOptions(context, changeBody(context), `endpoint del ${name}`),
        );
      },
    },
    {
      method: "POST",
      path: "/v1/vsids",
      summary: "Add a virtual subnet (its tenant is created when new)",
      schema: { body: requests.vsidAdd, response: responses.change },
      handler: (context) => {
        const body = context.body as VsidAddRequest;
        return daemon.editDocument(
          addVsid(body),
          changeOptions(context, body, `vsid add 0x${body.vsid.toString(16)}`),
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/vsids/:vsid",
      summary: "Delete a virtual subnet",
      schema: { params: params.vsid, body: requests.change.optional(), response: responses.change },
      handler: (context) => {
        const vsid = vsidOf(context.params.vsid ?? "");
        return daemon.editDocument(
          deleteVsid(vsid),
          changeOptions(context, changeBody(context), `vsid del 0x${vsid.toString(16)}`),
        );
      },
    },
    {
      method: "POST",
      path: "/v1/routes",
      summary: "Add a tenant route",
      schema: { body: requests.routeAdd, response: responses.change },
      handler: (context) => {
        const body = context.body as RouteAddRequest;
        return daemon.editDocument(
          addRoute(body),
          changeOptions(context, body, `route add ${body.tenant} ${body.prefix}`),
        );
      },
    },
    {
      method: "DELETE",
      path: "/v1/routes",
      summary: "Delete a tenant route",
      schema: { body: requests.routeDelete, response: responses.change },
      handler: (context) => {
        const body = context.body as RouteDeleteRequest;
        return daemon.editDocument(
          deleteRoute(body),
          changeOptions(context, body, `route del ${body.tenant} ${body.prefix}`),
        );
      },
    },
    {
      method: "GET",
      path: "/v1/history",
      summary: "Every recorded change of the intent: who, when, the resources, the revision",
      schema: { querystring: queries.history, response: responses.history },
      handler: async (context): Promise<HistoryResponse> => {
        const records = await daemon.history(Number(context.query.get("since") ?? 0));
        return {
          revision: daemon.revision,
          records: records.map((record) => ({
            sequence: record.sequence,
            revision: record.revision,
            time: record.time,
            trigger: record.trigger,
            actor: record.actor,
            changes: recordedChanges(record),
          })),
        };
      },
    },
    {
      method: "GET",
      path: "/v1/diff",
      summary: "The resources that differ between two recorded revisions, before and after",
      schema: { querystring: queries.diff, response: responses.diff },
      handler: async (context): Promise<DiffResponse> => {
        const from = Number(context.query.get("from"));
        const to = Number(context.query.get("to"));
        return { from, to, changes: await daemon.diff(from, to) };
      },
    },
    {
      method: "POST",
      path: "/v1/rollback",
      summary:
        "Make the intent what it was at a recorded revision: a new change, audited like any other",
      schema: { body: requests.rollback, response: responses.change },
      handler: (context) => {
        const body = context.body as RollbackRequest;
        return daemon.rollback(
          body.revision,
          changeOptions(context, body, `rollback to revision ${body.revision}`),
        );
      },
    },
    {
      method: "GET",
      path: "/v1/counters",
      summary:
        "Per switch and VSID: encap, decap and flood packets and bytes, read from the switches",
      schema: { querystring: queries.counters, response: responses.counters },
      handler: (context) => {
        withFabric();
        const vsidText = context.query.get("vsid");
        return readCounters(
          pickSessions(daemon.sessions, context.query.get("switch")),
          daemon.switchTarget,
          daemon.fabric,
          daemon.allocations,
          vsidText === null ? undefined : vsidOf(vsidText),
        );
      },
    },
    {
      method: "GET",
      path: "/v1/drops",
      summary: "Non-zero drop counters per switch, stage and reason",
      schema: { querystring: queries.drops, response: responses.drops },
      handler: (context) => {
        withFabric();
        return readDrops(
          pickSessions(daemon.sessions, context.query.get("switch")),
          daemon.switchTarget,
          daemon.dropReasons,
        );
      },
    },
    {
      method: "GET",
      path: "/v1/tables/:switch",
      summary: "A switch's tables: entries and size",
      schema: { params: params.switch, response: responses.tables },
      handler: (context) => {
        const [session] = pickSessions(daemon.sessions, context.params.switch ?? "");
        const found = session as NonNullable<typeof session>;
        return readTables(found, daemon.switchTarget(found.name).pipeline);
      },
    },
    {
      method: "GET",
      path: "/v1/tables/:switch/:table",
      summary: "One table's entries, read from the switch",
      schema: { params: params.table, response: responses.tableEntries },
      handler: (context) => {
        const [session] = pickSessions(daemon.sessions, context.params.switch ?? "");
        const found = session as NonNullable<typeof session>;
        const { pipeline, codec } = daemon.switchTarget(found.name);
        return readTableEntries(found, pipeline, codec, context.params.table as string);
      },
    },
    {
      method: "GET",
      path: "/v1/events",
      summary: "Recent daemon events; follow=1 streams new ones as JSON lines",
      schema: { querystring: queries.events, response: responses.events, streams: true },
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

/** Prometheus's scrape target (text exposition format; not part of the OpenAPI document). */
export function metricsRoutes(metrics: DaemonMetrics): Route[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      hidden: true,
      handler: async () => new RawAnswer(metrics.contentType, await metrics.text()),
    },
  ];
}
