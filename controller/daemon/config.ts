/**
 * The daemon's own settings (not the fabric: that is the intent). Read from a YAML file
 * (`nvgre-ctl run -c /etc/nvgre/daemon.yaml`), then overridden by command-line options;
 * every field has a default, so `nvgre-ctl run` alone works. Errors name the field.
 *
 *   stateDir: /var/lib/nvgre            # the embedded intent store (one host, no server)
 *   store: embedded                     # or { etcd: { endpoints: [h:2379, …], prefix: /nvgre/<fabric>/,
 *                                       #   caFile, certFile, keyFile, username, passwordFile,
 *                                       #   maxTxnOps (the members' --max-txn-ops, default 128) } }
 *   memberId: <host>-<pid>              # this replica's name in the cluster
 *   leaseTtlSeconds: 3                  # etcd leadership lease: a dead leader is replaced within it
 *   leaderMaxStallSeconds: 15           # a leader whose event loop is blocked this long gives the lease up
 *   socket: /run/nvgre/nvgre-ctl.sock   # local API, mode 0600
 *   listen: 0.0.0.0:9701                # optional TCP API, TLS with client certificates only:
 *   listenTls: { cert: …, key: …, clientCa: … }   # its PEM files (required with listen)
 *   role: ""                            # P4Runtime role (default role when empty)
 *   reconcileIntervalSeconds: 30        # drift check and repair; 0 = off
 *   learnedAgeingSeconds: 300           # a learned endpoint not seen this long is removed; 0 = never
 *   connectTimeoutSeconds: 5
 *   eventCapacity: 10000                # events kept for `nvgre-ctl events`
 *   metricsIntervalSeconds: 10          # how often /metrics reads status and switch counters
 *   icmpAnswersPerSecond: 100           # punts handled per switch and second: ICMP too-big and echo answers (RFC 1812 §4.3.2.8)
 *   logLevel: info
 *   pipeline: { json: …, p4info: …, enums: … }   # default: the committed p4/build/nvgre.*
 *   targetBuilds: { tna: …, t2na: … }   # bf-p4c builds for Tofino switches (default p4/build/tna, t2na)
 *   tls: { rootCert: …, privateKey: …, certChain: … }   # PEM files; plaintext when absent
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import {
  type EtcdLocation,
  etcdLocationSchema,
  parseStoreUrl,
  type StoreLocation,
} from "../intent/store/open.js";
import { nvgreBuild } from "../nvgre-build.js";
import { defaultSocketPath } from "./socket-path.js";

/** A config that cannot be used; the message names the field and the file. */
export class DaemonConfigError extends Error {
  override readonly name = "DaemonConfigError";
}

const schema = z.strictObject({
  stateDir: z.string().min(1).default("/var/lib/nvgre"),
  store: z
    .union([z.literal("embedded"), z.strictObject({ etcd: etcdLocationSchema })], {
      error: 'store is "embedded" or { etcd: { endpoints: [host:port, …], prefix } }',
    })
    .default("embedded"),
  memberId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/, { error: "letters, digits, '-', '_', '.', ':'" })
    .optional(),
  leaseTtlSeconds: z.int().min(2).max(60).default(3),
  leaderMaxStallSeconds: z.int().min(1).max(600).default(15),
  socket: z.string().min(1).optional(),
  listen: z.string().optional(),
  listenTls: z.strictObject({ cert: z.string(), key: z.string(), clientCa: z.string() }).optional(),
  role: z.string().optional(),
  reconcileIntervalSeconds: z.number().min(0).default(30),
  // P4Runtime idle timeouts are nanoseconds in an int64; a year is plenty.
  learnedAgeingSeconds: z.number().min(0).max(31_536_000).default(300),
  connectTimeoutSeconds: z.number().positive().default(5),
  eventCapacity: z.int().min(10).max(1_000_000).default(10_000),
  metricsIntervalSeconds: z.number().min(0.1).max(3600).default(10),
  icmpAnswersPerSecond: z.number().positive().default(100),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  pipeline: z.strictObject({ json: z.string(), p4info: z.string(), enums: z.string() }).optional(),
  targetBuilds: z
    .strictObject({ tna: z.string().optional(), t2na: z.string().optional() })
    .optional(),
  tls: z
    .strictObject({
      rootCert: z.string().optional(),
      privateKey: z.string().optional(),
      certChain: z.string().optional(),
    })
    .optional(),
});

export type DaemonConfigInput = z.input<typeof schema>;

export interface DaemonConfig {
  stateDir: string;
  /** Where the intent lives: the embedded store in stateDir, or an etcd cluster. */
  store: "embedded" | { etcd: EtcdLocation };
  memberId: string | undefined;
  leaseTtlSeconds: number;
  leaderMaxStallSeconds: number;
  socketPath: string;
  /** The TCP API (mTLS only): address and PEM contents. */
  listen: { address: string; cert: Buffer; key: Buffer; clientCa: Buffer } | undefined;
  role: string | undefined;
  reconcileIntervalMs: number;
  /** Idle time after which a learned endpoint is removed; 0 = never. */
  learnedAgeingSeconds: number;
  connectTimeoutMs: number;
  eventCapacity: number;
  /** How often /metrics reads status and the switches' counters. */
  metricsIntervalMs: number;
  icmpAnswersPerSecond: number;
  logLevel: string;
  /** The v1model program: bmv2 JSON, P4Info and enums file (`make p4` writes all three). */
  pipeline: { json: string; p4info: string; enums: string };
  /** bf-p4c build directories for Tofino switches (default p4/build/tna, p4/build/t2na). */
  targetBuilds?: { tna?: string; t2na?: string };
  tls: { rootCert?: Buffer; privateKey?: Buffer; certChain?: Buffer } | undefined;
}

/** Command-line overrides, as `nvgre-ctl run` parses them (strings: validated here). */
export interface DaemonOverrides {
  config?: string;
  stateDir?: string;
  /** "embedded", or etcd://host:port[,host:port…][/prefix/] */
  store?: string;
  member?: string;
  leaseTtl?: string;
  socket?: string;
  reconcileInterval?: string;
  learnedAgeing?: string;
  listen?: string;
  listenCert?: string;
  listenKey?: string;
  clientCa?: string;
  logLevel?: string;
}

export function loadDaemonConfig(overrides: DaemonOverrides): DaemonConfig {
  let fromFile: Record<string, unknown> = {};
  if (overrides.config) {
    let text: string;
    try {
      text = readFileSync(overrides.config, "utf8");
    } catch (error) {
      throw new DaemonConfigError(`cannot read ${overrides.config}: ${(error as Error).message}`);
    }
    const parsed = parseYaml(text) as unknown;
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
      throw new DaemonConfigError(`${overrides.config}: expected a mapping of settings`);
    }
    fromFile = (parsed as Record<string, unknown> | null) ?? {};
  }
  const merged: Record<string, unknown> = { ...fromFile };
  if (overrides.stateDir) merged.stateDir = overrides.stateDir;
  if (overrides.store) merged.store = storeOf(overrides.store, merged.store);
  if (overrides.member) merged.memberId = overrides.member;
  if (overrides.leaseTtl !== undefined) merged.leaseTtlSeconds = secondsOf(overrides.leaseTtl);
  if (overrides.socket) merged.socket = overrides.socket;
  if (overrides.listen) merged.listen = overrides.listen;
  if (overrides.listenCert || overrides.listenKey || overrides.clientCa) {
    const fromFileTls = (fromFile.listenTls ?? {}) as Record<string, unknown>;
    merged.listenTls = {
      ...fromFileTls,
      ...(overrides.listenCert ? { cert: overrides.listenCert } : {}),
      ...(overrides.listenKey ? { key: overrides.listenKey } : {}),
      ...(overrides.clientCa ? { clientCa: overrides.clientCa } : {}),
    };
  }
  if (overrides.logLevel) merged.logLevel = overrides.logLevel;
  if (overrides.reconcileInterval !== undefined) {
    merged.reconcileIntervalSeconds = secondsOf(overrides.reconcileInterval);
  }
  if (overrides.learnedAgeing !== undefined) {
    merged.learnedAgeingSeconds = secondsOf(overrides.learnedAgeing);
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const where = overrides.config ? `${overrides.config}: ` : "";
    throw new DaemonConfigError(
      `daemon config is invalid:\n${result.error.issues
        .map((issue) => `  ${where}${issue.path.join(".") || "(top level)"}: ${issue.message}`)
        .join("\n")}`,
    );
  }
  const c = result.data;
  return {
    stateDir: c.stateDir,
    store: c.store,
    memberId: c.memberId,
    leaseTtlSeconds: c.leaseTtlSeconds,
    leaderMaxStallSeconds: c.leaderMaxStallSeconds,
    socketPath: c.socket ?? defaultSocketPath(),
    listen: listenOf(c.listen, c.listenTls),
    role: c.role || undefined,
    reconcileIntervalMs: c.reconcileIntervalSeconds * 1000,
    learnedAgeingSeconds: c.learnedAgeingSeconds,
    connectTimeoutMs: c.connectTimeoutSeconds * 1000,
    eventCapacity: c.eventCapacity,
    metricsIntervalMs: c.metricsIntervalSeconds * 1000,
    icmpAnswersPerSecond: c.icmpAnswersPerSecond,
    logLevel: c.logLevel,
    pipeline: c.pipeline ?? nvgreBuild,
    targetBuilds: c.targetBuilds ?? {},
    tls: c.tls ? readTls(c.tls) : undefined,
  };
}

/**
 * `--store`: "embedded", or a store URL (intent/store/open.ts). What the URL says replaces the
 * config file's; the file's other etcd settings (TLS, credentials) stay.
 */
function storeOf(text: string, fromFile: unknown): unknown {
  if (text === "embedded") return text;
  let location: StoreLocation;
  try {
    location = parseStoreUrl(text);
  } catch (error) {
    throw new DaemonConfigError(`--store: ${(error as Error).message}`);
  }
  if (location.kind === "embedded") {
    throw new DaemonConfigError(
      `--store ${text}: the embedded store's directory is --state-dir; --store takes "embedded" or etcd://…`,
    );
  }
  const file =
    typeof fromFile === "object" && fromFile !== null && "etcd" in fromFile
      ? ((fromFile as { etcd: Record<string, unknown> }).etcd ?? {})
      : {};
  const { kind: _, ...etcd } = location;
  return { etcd: { ...file, ...etcd } };
}

/**
 * The TCP listener exists only with TLS and a CA for client certificates: there is no
 * unauthenticated TCP door, not even on loopback (any local user could reach it).
 */
function listenOf(
  address: string | undefined,
  tls: { cert: string; key: string; clientCa: string } | undefined,
): DaemonConfig["listen"] {
  if (!address) {
    if (tls) throw new DaemonConfigError("listenTls is set but listen (host:port) is not");
    return undefined;
  }
  if (!tls) {
    throw new DaemonConfigError(
      `listen ${address} needs listenTls (cert, key, clientCa; --listen-cert, --listen-key, --client-ca): the TCP API accepts only clients with a certificate from that CA`,
    );
  }
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new DaemonConfigError(
        `listenTls.${field}: cannot read ${path}: ${(error as Error).message}`,
      );
    }
  };
  return {
    address,
    cert: read("cert", tls.cert),
    key: read("key", tls.key),
    clientCa: read("clientCa", tls.clientCa),
  };
}

/** A number of seconds from the command line; anything else is left for the schema to name. */
function secondsOf(text: string): number | string {
  const seconds = Number(text);
  return text.trim() !== "" && Number.isFinite(seconds) ? seconds : text;
}

function readTls(tls: { rootCert?: string; privateKey?: string; certChain?: string }) {
  const read = (field: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new DaemonConfigError(`tls.${field}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const files = {
    rootCert: read("rootCert", tls.rootCert),
    privateKey: read("privateKey", tls.privateKey),
    certChain: read("certChain", tls.certChain),
  };
  if (Boolean(files.privateKey) !== Boolean(files.certChain)) {
    throw new DaemonConfigError("tls: mutual TLS needs both privateKey and certChain");
  }
  return Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined));
}
