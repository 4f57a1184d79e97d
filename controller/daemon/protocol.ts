/**
 * The local API's messages, shared by the daemon (which answers) and nvgre-ctl (which asks).
 * Types only: the CLI imports this without loading any of the daemon. 64-bit values
 * (election ids, pipeline cookies) travel as decimal strings.
 *
 *   GET    /v1/status                       StatusResponse
 *   GET    /v1/intent                       IntentResponse
 *   POST   /v1/apply                        ApplyRequest → JSON lines of ApplyStreamLine
 *   GET    /v1/get/:kind                    GetResponse (switches|vsids|endpoints|nves|routes)
 *   POST   /v1/endpoints                    EndpointAddRequest → ChangeResult
 *   PUT    /v1/endpoints/:name/location     EndpointMoveRequest → ChangeResult
 *   DELETE /v1/endpoints/:name              → ChangeResult
 *   POST   /v1/vsids                        VsidAddRequest → ChangeResult
 *   DELETE /v1/vsids/:vsid                  → ChangeResult
 *   POST   /v1/routes                       RouteAddRequest → ChangeResult
 *   DELETE /v1/routes                       RouteDeleteRequest → ChangeResult
 *   GET    /v1/counters?vsid=N              CountersResponse
 *   GET    /v1/drops                        DropsResponse
 *   GET    /v1/tables/:switch[/:table]      TablesResponse | TableEntriesResponse
 *   GET    /v1/events?after=N&follow=1      JSON lines of DaemonEvent (follow) or EventsResponse
 *   GET    /v1/history?since=REV            HistoryResponse (recorded changes after REV)
 *   GET    /v1/diff?from=REV1&to=REV2       DiffResponse
 *   POST   /v1/rollback                     RollbackRequest → ChangeResult
 *
 * Mutations take `dryRun` (plan only) and `expectedRevision` (refuse with 409 when the intent
 * changed since the caller read it). With a query `stream=1` they answer JSON lines like apply.
 */
import type { DaemonEvent } from "./events.js";

export type ApiErrorCode =
  | "bad-request"
  | "unauthenticated"
  | "forbidden"
  | "not-found"
  | "conflict"
  | "payload-too-large"
  | "invalid-intent"
  | "switch-unavailable"
  | "internal";

export interface ApiErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    /** invalid-intent: the issues, each with its path, message and line. */
    details?: unknown;
  };
}

export interface IntentIssueView {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ReconcileSummary {
  time: string;
  /** What started it: apply, a change, a (re)connection, the periodic drift check, a digest. */
  trigger: string;
  ok: boolean;
  /** Updates written (0 when the switch already matched). */
  writes: number;
  pipelinePushed: boolean;
  error?: string;
}

export interface SwitchStatus {
  name: string;
  address: string;
  deviceId: number;
  connected: boolean;
  primary: boolean;
  /** Our election id and the primary's, as the switch reports it. */
  electionId: string;
  primaryElectionId?: string;
  /** The pipeline cookie the switch runs (undefined: none or unknown) and whether it is ours. */
  pipelineCookie?: string;
  pipelineCurrent: boolean;
  /**
   * Entities the switch lacks or holds wrongly: from what this replica last read and wrote to
   * it (changes made behind its back show after the next read, the periodic drift check);
   * undefined while not primary.
   */
  drift?: number;
  lastReconcile?: ReconcileSummary;
  lastError?: string;
}

/** One resource that differs between two revisions of the intent. */
export interface ResourceDiff {
  /** Its store key, e.g. `resources/endpoint/web-1`. */
  resource: string;
  op: "added" | "changed" | "deleted";
  before?: unknown;
  after?: unknown;
}

/** A resource one recorded change touched, and how. */
export interface RecordedChange {
  /** Its store key, e.g. `resources/endpoint/web-1`. */
  resource: string;
  op: "added" | "changed" | "deleted";
}

/** One accepted change of the intent, as the store's history keeps it. */
export interface HistoryEntry {
  sequence: number;
  /** The store revision the change produced (what diff and rollback name). */
  revision: number;
  time: string;
  /** What caused it: "apply fabric.yaml", "endpoint move web-1", "rollback to revision 7" … */
  trigger: string;
  /** Who: `uid:N` (unix socket), a client certificate's subject, `controller` (learning, ageing). */
  actor: string;
  changes: RecordedChange[];
}

export interface HistoryResponse {
  /** The intent's revision now. */
  revision: number;
  /** Oldest first. */
  records: HistoryEntry[];
}

export interface DiffResponse {
  from: number;
  to: number;
  /** The resources that differ, in key order, with their values at `from` and at `to`. */
  changes: ResourceDiff[];
}

export interface RollbackRequest {
  /** A revision history lists: the intent becomes what it was then, as a new change. */
  revision: number;
  dryRun?: boolean;
  verbose?: boolean;
  expectedRevision?: number;
}

/** The controller cluster as one replica sees it. */
export interface ClusterStatus {
  /** "etcd": replicas on an etcd cluster; "local": the embedded store's single replica. */
  kind: "etcd" | "local";
  /** This replica's member id and role. */
  self: string;
  role: "leader" | "follower";
  leader?: string;
  term?: number;
  /** The store revision this replica reflects. */
  revision: number;
  /** Live members; `lag` is how many revisions a member's last report is behind this one. */
  members: { id: string; host: string; pid: number; revision?: number; lag?: number }[];
  error?: string;
}

export interface StatusResponse {
  daemon: {
    pid: number;
    version: string;
    startedAt: string;
    socket: string;
    intentRevision: number;
    intentPath: string;
    reconcileIntervalSeconds: number;
  };
  cluster?: ClusterStatus;
  switches: SwitchStatus[];
}

export interface IntentResponse {
  revision: number;
  /** The stored fabric document (learned endpoints included, marked `learned: true`). */
  document: unknown;
}

export type ChangeOp = "insert" | "modify" | "delete";

export interface EntityChange {
  op: ChangeOp;
  /** The entity by P4 names, e.g. `bridging vsid=0x5001 dst_mac=02:…:01 → to_port(port=3)`. */
  entity: string;
}

export interface SwitchPlan {
  switch: string;
  /** False when the switch could not be read: its plan is unknown and it was not written. */
  reachable: boolean;
  inserts: number;
  modifies: number;
  deletes: number;
  /** The changes themselves (dry runs, and `-v`). */
  changes?: EntityChange[];
  /** The pipeline would be / was pushed (cookie differs). */
  pipeline: boolean;
  /** Updates written; 0 on a dry run. */
  written: number;
  error?: string;
}

export interface ChangeResult {
  dryRun: boolean;
  /** The intent's revision after the change (unchanged on a dry run). */
  revision: number;
  switches: SwitchPlan[];
  /**
   * Set when the replica that took the change does not lead (its `switches` are empty): the
   * member that writes it to the switches, or null while no replica leads (the next leader does).
   */
  leader?: string | null;
}

export interface ApplyRequest {
  /** The fabric file's text (YAML or JSON). */
  text: string;
  /** Its name for messages (the file path). */
  source?: string;
  dryRun?: boolean;
  /** Include every change in the answer, not only the counts. */
  verbose?: boolean;
  expectedRevision?: number;
}

export type ApplyStreamLine =
  | { type: "plan"; switches: SwitchPlan[] }
  | { type: "progress"; switch: string; done: number; total: number }
  | { type: "result"; result: ChangeResult };

export type GetKind = "switches" | "vsids" | "endpoints" | "nves" | "routes";
export const getKinds: GetKind[] = ["switches", "vsids", "endpoints", "nves", "routes"];

export interface GetResponse {
  kind: GetKind;
  revision: number;
  /** Flat rows: scalar values or lists of scalars, same keys in every row. */
  rows: Record<string, string | number | boolean | string[] | null>[];
}

export interface EndpointAddRequest {
  name: string;
  vsid: number;
  mac: string;
  ips?: string[];
  location: EndpointLocationSpec;
  dryRun?: boolean;
  expectedRevision?: number;
}

export type EndpointLocationSpec =
  | { switch: string; port: number; vlan?: number }
  | { nve: string };

export interface EndpointMoveRequest {
  location: EndpointLocationSpec;
  dryRun?: boolean;
  expectedRevision?: number;
}

export interface VsidAddRequest {
  vsid: number;
  name: string;
  tenant: string;
  flood?: "head-end" | { multicastGroup: string };
  learning?: boolean | { local: boolean; remote: boolean };
  sourceGuard?: boolean;
  paValidation?: boolean;
  gateway?: { mac: string; ips: string[] };
  mtu?: number;
  dryRun?: boolean;
  expectedRevision?: number;
}

export interface RouteAddRequest {
  tenant: string;
  prefix: string;
  nextHop: { endpoint?: string; vsid?: number; nve?: string; mac?: string };
  dryRun?: boolean;
  expectedRevision?: number;
}

export interface RouteDeleteRequest {
  tenant: string;
  prefix: string;
  dryRun?: boolean;
  expectedRevision?: number;
}

export interface CounterCells {
  packets: string;
  bytes: string;
}

export interface CountersResponse {
  /** One row per (switch, VSID) the switch serves. */
  rows: {
    switch: string;
    vsid: number;
    name: string;
    decap: CounterCells;
    encap: CounterCells;
    flood: CounterCells;
  }[];
  /** Switches that could not be read, with why. */
  unreachable: { switch: string; error: string }[];
}

export interface DropsResponse {
  /** Non-zero drop counters, per switch and reason. */
  rows: {
    switch: string;
    stage: "ingress" | "egress";
    reason: number;
    name: string;
    description: string;
    packets: string;
    bytes: string;
  }[];
  unreachable: { switch: string; error: string }[];
}

export interface TablesResponse {
  switch: string;
  tables: { name: string; entries: number; size: number }[];
}

export interface TableEntriesResponse {
  switch: string;
  table: string;
  entries: { match: Record<string, string>; action: string; priority?: number }[];
}

export interface EventsResponse {
  events: DaemonEvent[];
}
