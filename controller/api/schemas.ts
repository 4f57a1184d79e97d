/**
 * The API's request and response shapes as zod schemas: the same schema validates a request
 * (400 naming the field) and describes it in the OpenAPI document (openapi.ts). The response
 * schemas describe what the daemon answers (daemon/protocol.ts's types); the API test
 * checks real answers against them.
 */
import { z } from "zod";

const changeFields = {
  dryRun: z.boolean().optional().describe("plan only: nothing is stored or written"),
  verbose: z.boolean().optional().describe("list every entity change in the answer"),
  expectedRevision: z
    .int()
    .min(0)
    .optional()
    .describe("refuse with 409 when the intent is no longer at this revision"),
};

const location = z.union([
  z.strictObject({
    switch: z.string(),
    port: z.int().min(0),
    vlan: z.int().optional(),
  }),
  z.strictObject({ nve: z.string() }),
]);

export const requests = {
  apply: z.strictObject({
    text: z.string().describe("the fabric file (YAML or JSON)"),
    source: z.string().optional().describe("its name for messages"),
    progress: z.boolean().optional().describe("stream plan and progress lines before the result"),
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
  rollback: z.strictObject({
    revision: z
      .int()
      .min(0)
      .describe("a revision history lists: the intent becomes what it was then, as a new change"),
    ...changeFields,
  }),
};

export const getKind = z.enum(["switches", "vsids", "endpoints", "nves", "routes"]);

export const params = {
  kind: z.strictObject({ kind: getKind }),
  endpoint: z.strictObject({ name: z.string() }),
  vsid: z.strictObject({
    vsid: z
      .string()
      .regex(/^(0x[0-9a-fA-F]+|\d+)$/, { error: "a VSID (decimal or 0x hex)" })
      .describe("decimal or 0x-prefixed hex"),
  }),
  switch: z.strictObject({ switch: z.string() }),
  table: z.strictObject({ switch: z.string(), table: z.string() }),
};

const switchQuery = z.string().optional().describe("only this switch");
const revisionQuery = z.coerce.number().int().min(0);

export const queries = {
  counters: z.strictObject({
    switch: switchQuery,
    vsid: z
      .string()
      .regex(/^(0x[0-9a-fA-F]+|\d+)$/, { error: "a VSID (decimal or 0x hex)" })
      .optional(),
  }),
  drops: z.strictObject({ switch: switchQuery }),
  events: z.strictObject({
    kind: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe("event kinds, comma-separated or repeated"),
    switch: switchQuery,
    last: z.coerce.number().int().min(0).optional().describe("at most this many past events"),
    follow: z
      .enum(["0", "1"])
      .optional()
      .describe("1: stream JSON lines of new events until the client closes"),
  }),
  history: z.strictObject({
    since: revisionQuery.optional().describe("only changes that produced a later revision"),
  }),
  diff: z.strictObject({
    from: revisionQuery.describe("a revision history lists"),
    to: revisionQuery.describe("a revision history lists"),
  }),
};

const issue = z.object({
  path: z.string(),
  message: z.string(),
  line: z.int().optional(),
  column: z.int().optional(),
});

export const errorResponse = z
  .object({
    error: z.object({
      code: z.enum([
        "bad-request",
        "unauthenticated",
        "forbidden",
        "not-found",
        "conflict",
        "payload-too-large",
        "invalid-intent",
        "switch-unavailable",
        "internal",
      ]),
      message: z.string(),
      details: z.array(issue).optional().describe("invalid-intent: each problem"),
    }),
  })
  .describe("what went wrong");

const reconcileSummary = z.object({
  time: z.string(),
  trigger: z.string(),
  ok: z.boolean(),
  writes: z.int(),
  pipelinePushed: z.boolean(),
  error: z.string().optional(),
});

const switchStatus = z.object({
  name: z.string(),
  address: z.string(),
  deviceId: z.number(),
  connected: z.boolean(),
  primary: z.boolean(),
  electionId: z.string(),
  primaryElectionId: z.string().optional(),
  pipelineCookie: z.string().optional(),
  pipelineCurrent: z.boolean(),
  drift: z.int().optional(),
  lastReconcile: reconcileSummary.optional(),
  lastError: z.string().optional(),
});

const entityChange = z.object({ op: z.enum(["insert", "modify", "delete"]), entity: z.string() });

const switchPlan = z.object({
  switch: z.string(),
  reachable: z.boolean(),
  inserts: z.int(),
  modifies: z.int(),
  deletes: z.int(),
  changes: z.array(entityChange).optional(),
  pipeline: z.boolean(),
  written: z.int(),
  error: z.string().optional(),
});

const counterCells = z.object({
  packets: z.string().describe("decimal (64-bit)"),
  bytes: z.string().describe("decimal (64-bit)"),
});

const unreachable = z.array(z.object({ switch: z.string(), error: z.string() }));

const event = z.object({
  seq: z.int(),
  time: z.string(),
  kind: z.enum([
    "connection",
    "mastership",
    "pipeline",
    "reconcile",
    "intent",
    "learning",
    "punt",
    "daemon",
  ]),
  level: z.enum(["info", "warn", "error"]),
  switch: z.string().optional(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const cluster = z
  .object({
    kind: z.enum(["etcd", "local"]),
    self: z.string(),
    role: z.enum(["leader", "follower"]),
    leader: z.string().optional(),
    term: z.int().optional(),
    revision: z.int(),
    members: z.array(
      z.object({
        id: z.string(),
        host: z.string(),
        pid: z.int(),
        revision: z.int().optional(),
        lag: z.int().optional(),
      }),
    ),
    error: z.string().optional(),
  })
  .describe("the controller cluster as this replica sees it");

const resourceOp = z.enum(["added", "changed", "deleted"]);
const resourceKey = z.string().describe("the resource's store key, e.g. resources/endpoint/web-1");

export const changeResult = z.object({
  dryRun: z.boolean(),
  revision: z.int(),
  switches: z.array(switchPlan),
  leader: z
    .string()
    .nullable()
    .optional()
    .describe(
      "Set when this replica does not lead: the leader that writes the change to the switches, or null while none leads",
    ),
});

export const responses = {
  status: z.object({
    daemon: z.object({
      pid: z.int(),
      version: z.string(),
      startedAt: z.string(),
      socket: z.string(),
      intentRevision: z.int(),
      intentPath: z.string(),
      reconcileIntervalSeconds: z.number(),
    }),
    cluster: cluster.optional(),
    switches: z.array(switchStatus),
  }),
  intent: z.object({
    revision: z.int(),
    document: z.unknown().describe("the stored fabric document, or null before the first apply"),
  }),
  applyLine: z
    .union([
      z.object({ type: z.literal("plan"), switches: z.array(switchPlan) }),
      z.object({
        type: z.literal("progress"),
        switch: z.string(),
        done: z.int(),
        total: z.int(),
      }),
      z.object({ type: z.literal("result"), result: changeResult }),
      errorResponse,
    ])
    .describe("one line of the application/x-ndjson stream; an error line ends it"),
  get: z.object({
    kind: getKind,
    revision: z.int(),
    rows: z.array(
      z.record(
        z.string(),
        z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]),
      ),
    ),
  }),
  change: changeResult,
  counters: z.object({
    rows: z.array(
      z.object({
        switch: z.string(),
        vsid: z.int(),
        name: z.string(),
        decap: counterCells,
        encap: counterCells,
        flood: counterCells,
      }),
    ),
    unreachable,
  }),
  drops: z.object({
    rows: z.array(
      z.object({
        switch: z.string(),
        stage: z.enum(["ingress", "egress"]),
        reason: z.int(),
        name: z.string(),
        description: z.string(),
        packets: z.string(),
        bytes: z.string(),
      }),
    ),
    unreachable,
  }),
  tables: z.object({
    switch: z.string(),
    tables: z.array(z.object({ name: z.string(), entries: z.int(), size: z.int() })),
  }),
  tableEntries: z.object({
    switch: z.string(),
    table: z.string(),
    entries: z.array(
      z.object({
        match: z.record(z.string(), z.string()),
        action: z.string(),
        priority: z.int().optional(),
      }),
    ),
  }),
  events: z
    .object({ events: z.array(event) })
    .describe("past events; with follow=1 JSON lines of events instead"),
  history: z.object({
    revision: z.int().describe("the intent's revision now"),
    records: z
      .array(
        z.object({
          sequence: z.int(),
          revision: z.int().describe("the store revision the change produced"),
          time: z.string(),
          trigger: z.string(),
          actor: z
            .string()
            .describe("uid:N (unix socket), a client certificate's subject, or controller"),
          changes: z.array(z.object({ resource: resourceKey, op: resourceOp })),
        }),
      )
      .describe("oldest first"),
  }),
  diff: z.object({
    from: z.int(),
    to: z.int(),
    changes: z.array(
      z.object({
        resource: resourceKey,
        op: resourceOp,
        before: z.unknown().optional().describe("its value at `from` (absent: added)"),
        after: z.unknown().optional().describe("its value at `to` (absent: deleted)"),
      }),
    ),
  }),
};
