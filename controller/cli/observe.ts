/**
 * Read-only commands: `get`, `status`, `counters`, `drops`, `tables`, `events`. Each asks the
 * daemon and prints a table, JSON or YAML; nothing here changes the fabric.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { termOf } from "../cluster/election-id.js";
import type { DaemonEvent } from "../daemon/events.js";
import type {
  ClusterStatus,
  CountersResponse,
  DropsResponse,
  EventsResponse,
  GetKind,
  GetResponse,
  StatusResponse,
  SwitchStatus,
  TableEntriesResponse,
  TablesResponse,
} from "../daemon/protocol.js";
import type { CliContext } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import {
  type Column,
  colour,
  formatData,
  hexVsid,
  type OutputFormat,
  renderRows,
  renderTable,
} from "./output.js";

/** The table columns of each `get` kind (JSON and YAML print every field of the rows). */
const getColumns: Record<GetKind, Column[]> = {
  switches: [
    { key: "name", header: "name" },
    { key: "role", header: "role" },
    { key: "address", header: "P4Runtime" },
    { key: "deviceId", header: "device" },
    { key: "routerMac", header: "router MAC" },
    { key: "providerAddresses", header: "PAs" },
    { key: "accessPorts", header: "access" },
    { key: "fabricPorts", header: "fabric" },
    { key: "connected", header: "connected", format: (v) => yesNo(v, "up", "down") },
  ],
  vsids: [
    { key: "vsid", header: "VSID", format: (v) => hexVsid(Number(v)) },
    { key: "name", header: "name" },
    { key: "tenant", header: "tenant" },
    { key: "gateway", header: "gateway" },
    { key: "flood", header: "flood" },
    { key: "learning", header: "learning" },
    { key: "sourceGuard", header: "guard" },
    { key: "paValidation", header: "PA check" },
    { key: "endpoints", header: "endpoints" },
  ],
  endpoints: [
    { key: "name", header: "name" },
    { key: "vsid", header: "VSID", format: (v) => hexVsid(Number(v)) },
    { key: "mac", header: "MAC" },
    { key: "ips", header: "CAs" },
    { key: "location", header: "location" },
    { key: "learned", header: "origin", format: (v) => (v ? colour.warn("learned") : "intent") },
  ],
  nves: [
    { key: "name", header: "name" },
    { key: "providerAddresses", header: "PAs" },
    { key: "attachment", header: "attachment" },
    { key: "vsids", header: "VSIDs" },
  ],
  routes: [
    { key: "kind", header: "kind" },
    { key: "scope", header: "tenant / switch" },
    { key: "prefix", header: "prefix" },
    { key: "nextHop", header: "next hop" },
  ],
};

function yesNo(value: unknown, yes: string, no: string): string {
  return value ? colour.good(yes) : colour.bad(no);
}

export async function get(context: CliContext, kind: GetKind, output: OutputFormat): Promise<void> {
  const response = await (await context.api()).call<GetResponse>("GET", `/v1/get/${kind}`);
  context.io.out(renderRows(response.rows, getColumns[kind], output));
}

export async function status(context: CliContext, output: OutputFormat): Promise<void> {
  const response = await (await context.api()).call<StatusResponse>("GET", "/v1/status");
  if (output !== "table") {
    context.io.out(formatData(response, output));
  } else {
    const d = response.daemon;
    context.io.out(
      `daemon pid ${d.pid} (v${d.version}) since ${d.startedAt}, intent revision ${d.intentRevision} (${d.intentPath}), drift check every ${d.reconcileIntervalSeconds}s\n`,
    );
    const cluster = response.cluster;
    if (cluster) context.io.out(clusterText(cluster));
    context.io.out(
      renderTable(response.switches, [
        { key: "name", header: "switch" },
        { key: "address", header: "P4Runtime" },
        { key: "connected", header: "connected", format: (v) => yesNo(v, "yes", "no") },
        {
          key: "primary",
          header: "primary",
          format: (v, row) =>
            v
              ? colour.good("yes")
              : row.connected && leaderIsPrimary(row, cluster)
                ? colour.good("backup (the leader is primary)")
                : row.connected
                  ? colour.bad(`no (primary ${row.primaryElectionId ?? "?"})`)
                  : colour.dim("-"),
        },
        {
          key: "pipelineCookie",
          header: "pipeline cookie",
          format: (v, row) =>
            v === undefined || v === null
              ? colour.dim("-")
              : row.pipelineCurrent
                ? String(v)
                : colour.warn(`${v} (not ours)`),
        },
        { key: "drift", header: "sync", format: (_, row) => syncText(row) },
        {
          key: "lastError",
          header: "last error",
          format: (v) => (v ? colour.bad(String(v)) : colour.dim("-")),
        },
      ]),
    );
  }
  const cluster = response.cluster;
  const down = response.switches.filter(
    (s) => !s.connected || !(s.primary || leaderIsPrimary(s, cluster)) || (s.drift ?? 0) > 0,
  );
  if (down.length > 0) {
    throw new CliError(
      `${down.length} of ${response.switches.length} switches are not connected as primary and in sync: ${down.map((s) => s.name).join(", ")}`,
      ExitCode.notConverged,
    );
  }
}

/**
 * On a replica that does not lead, a switch is as it should be when the leader is its primary:
 * the primary's election id carries the leader's term (cluster/election-id.ts).
 */
function leaderIsPrimary(s: SwitchStatus, cluster: ClusterStatus | undefined): boolean {
  if (!cluster || cluster.role === "leader" || cluster.term === undefined) return false;
  return s.primaryElectionId !== undefined && termOf(BigInt(s.primaryElectionId)) === cluster.term;
}

function clusterText(cluster: ClusterStatus): string {
  const leader =
    cluster.leader !== undefined
      ? `leader ${cluster.leader} (term ${cluster.term})`
      : colour.bad("no leader");
  const lines = [
    `cluster (${cluster.kind}): ${leader}; this replica ${cluster.self} is ${cluster.role === "leader" ? colour.good("the leader") : "a follower"}, at revision ${cluster.revision}${cluster.error ? `; ${colour.bad(cluster.error)}` : ""}`,
  ];
  for (const m of cluster.members) {
    const lag =
      m.lag === undefined
        ? colour.dim("revision not reported yet")
        : m.lag <= 0
          ? colour.good(`revision ${m.revision}, current`)
          : colour.warn(`revision ${m.revision}, ${m.lag} behind`);
    lines.push(`  member ${m.id} (${m.host}, pid ${m.pid}): ${lag}`);
  }
  return `${lines.join("\n")}\n`;
}

function syncText(s: SwitchStatus): string {
  if (s.drift === undefined) return colour.dim("unknown");
  return s.drift === 0 ? colour.good("in sync") : colour.warn(`${s.drift} entries of drift`);
}

export async function counters(
  context: CliContext,
  options: { vsid?: number; switch?: string; watch?: number; output: OutputFormat },
): Promise<void> {
  const query = new URLSearchParams();
  if (options.vsid !== undefined) query.set("vsid", String(options.vsid));
  if (options.switch) query.set("switch", options.switch);
  const path = `/v1/counters${query.size > 0 ? `?${query}` : ""}`;
  let previous: { at: number; response: CountersResponse } | undefined;
  for (;;) {
    const response = await (await context.api()).call<CountersResponse>("GET", path);
    const at = Date.now();
    if (options.output !== "table") {
      context.io.out(formatData(response, options.output));
    } else {
      if (options.watch && context.io.interactive) context.io.out("\x1b[2J\x1b[H");
      context.io.out(countersTable(response, previous && { ...previous, now: at }));
      for (const u of response.unreachable) {
        context.io.err(colour.bad(`${u.switch}: not read: ${u.error}\n`));
      }
    }
    if (!options.watch) return;
    previous = { at, response };
    await sleep(options.watch * 1000);
  }
}

function countersTable(
  response: CountersResponse,
  previous: { at: number; now: number; response: CountersResponse } | undefined,
): string {
  const before = new Map(
    (previous?.response.rows ?? []).map((row) => [`${row.switch}/${row.vsid}`, row]),
  );
  const seconds = previous ? (previous.now - previous.at) / 1000 : 0;
  const rate = (now: string, then: string | undefined) =>
    then === undefined || seconds <= 0
      ? ""
      : ` (${((Number(now) - Number(then)) / seconds).toFixed(1)}/s)`;
  const rows = response.rows.map((row) => {
    const old = before.get(`${row.switch}/${row.vsid}`);
    return {
      switch: row.switch,
      vsid: hexVsid(row.vsid),
      name: row.name,
      decap: `${row.decap.packets} pkts / ${row.decap.bytes} B${rate(row.decap.packets, old?.decap.packets)}`,
      encap: `${row.encap.packets} pkts / ${row.encap.bytes} B${rate(row.encap.packets, old?.encap.packets)}`,
      flood: `${row.flood.packets} pkts / ${row.flood.bytes} B${rate(row.flood.packets, old?.flood.packets)}`,
    };
  });
  return renderTable(rows, [
    { key: "switch", header: "switch" },
    { key: "vsid", header: "VSID" },
    { key: "name", header: "name" },
    { key: "decap", header: "decapsulated (in)" },
    { key: "encap", header: "encapsulated (out)" },
    { key: "flood", header: "flooded" },
  ]);
}

export async function drops(
  context: CliContext,
  options: { switch?: string; output: OutputFormat },
): Promise<void> {
  const query = options.switch ? `?switch=${encodeURIComponent(options.switch)}` : "";
  const response = await (await context.api()).call<DropsResponse>("GET", `/v1/drops${query}`);
  if (options.output !== "table") {
    context.io.out(formatData(response, options.output));
    return;
  }
  context.io.out(
    renderTable(response.rows, [
      { key: "switch", header: "switch" },
      { key: "stage", header: "stage" },
      { key: "name", header: "reason" },
      { key: "packets", header: "packets" },
      { key: "bytes", header: "bytes" },
      { key: "description", header: "meaning", format: (v) => colour.dim(String(v ?? "")) },
    ]),
  );
  for (const u of response.unreachable)
    context.io.err(colour.bad(`${u.switch}: not read: ${u.error}\n`));
}

export async function tables(
  context: CliContext,
  switchName: string,
  table: string | undefined,
  output: OutputFormat,
): Promise<void> {
  const base = `/v1/tables/${encodeURIComponent(switchName)}`;
  if (!table) {
    const response = await (await context.api()).call<TablesResponse>("GET", base);
    context.io.out(
      renderRows(
        response.tables,
        [
          { key: "name", header: "table" },
          { key: "entries", header: "entries" },
          { key: "size", header: "size" },
        ],
        output,
      ),
    );
    return;
  }
  const response = await (await context.api()).call<TableEntriesResponse>(
    "GET",
    `${base}/${encodeURIComponent(table)}`,
  );
  if (output !== "table") {
    context.io.out(formatData(response, output));
    return;
  }
  const keys = [...new Set(response.entries.flatMap((e) => Object.keys(e.match)))];
  const rows = response.entries.map((e) => ({
    ...Object.fromEntries(keys.map((k) => [`match.${k}`, e.match[k] ?? null])),
    priority: e.priority ?? null,
    action: e.action,
  }));
  const hasPriority = response.entries.some((e) => e.priority !== undefined);
  context.io.out(
    renderTable(rows, [
      ...keys.map((k) => ({ key: `match.${k}`, header: k })),
      ...(hasPriority ? [{ key: "priority", header: "priority" }] : []),
      { key: "action", header: "action" },
    ]),
  );
}

export async function events(
  context: CliContext,
  options: {
    follow?: boolean;
    last?: number;
    kind?: string[];
    switch?: string;
    output: OutputFormat;
  },
): Promise<void> {
  const query = new URLSearchParams();
  if (options.last !== undefined) query.set("last", String(options.last));
  for (const kind of options.kind ?? []) query.append("kind", kind);
  if (options.switch) query.set("switch", options.switch);
  const print = (event: DaemonEvent) => context.io.out(formatEvent(event, options.output));
  if (options.follow) {
    query.set("follow", "1");
    await (await context.api()).stream("GET", `/v1/events?${query}`, undefined, (line) =>
      print(line as DaemonEvent),
    );
    return;
  }
  const response = await (await context.api()).call<EventsResponse>("GET", `/v1/events?${query}`);
  if (options.output === "table") response.events.forEach(print);
  else context.io.out(formatData(response.events, options.output));
}

const levelColour = { info: (t: string) => t, warn: colour.warn, error: colour.bad };

/** One event per line for people; one JSON object per line (or a YAML document) for scripts. */
function formatEvent(event: DaemonEvent, output: OutputFormat): string {
  if (output === "json") return `${JSON.stringify(event)}\n`;
  if (output === "yaml") return `---\n${formatData(event, "yaml")}`;
  const where = event.switch ? ` ${event.switch}` : "";
  return `${colour.dim(event.time)} ${event.kind.padEnd(10)}${where}: ${levelColour[event.level](event.message)}\n`;
}
