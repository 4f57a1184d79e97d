/**
 * Where an intent store is, said the same way everywhere (`nvgre-ctl run --store`, the daemon's
 * config file, `--against`):
 *
 *   embedded:/var/lib/nvgre          the embedded SQLite store in that directory
 *   etcd://h1:2379,h2:2379/nvgre/prod/?caFile=/etc/nvgre/ca.pem&certFile=…&keyFile=…&username=…&passwordFile=…
 *                                    etcd: the members in the authority, the key prefix as the
 *                                    path (default /nvgre/<fabric>/), everything else as query
 *                                    parameters named like the config file's `store.etcd` fields
 *                                    (PEM and password files by path: no secret in a URL)
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { type EmbeddedStoreOptions, openEmbeddedStore } from "./embedded.js";
import { StoreError } from "./errors.js";
import { defaultEtcdPrefix, type EtcdStoreOptions, openEtcdStore } from "./etcd.js";
import type { KvStore } from "./types.js";

/** An etcd cluster as settings name it (the config file's `store.etcd`, a URL's query). */
export const etcdLocationSchema = z.strictObject({
  endpoints: z
    .array(
      z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { error: "host:port" }),
    )
    .min(1, { error: "at least one etcd endpoint (host:port)" }),
  prefix: z
    .string()
    .regex(/^\/.*\/$/, { error: 'a key prefix starts and ends with "/", e.g. /nvgre/demo/' })
    .optional(),
  caFile: z.string().optional(),
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
  username: z.string().optional(),
  passwordFile: z.string().optional(),
  dialTimeoutSeconds: z.coerce.number().positive().optional(),
  // The members' --max-txn-ops: changes with more keys are staged in several transactions.
  maxTxnOps: z.coerce.number().int().min(16).optional(),
});

export type EtcdLocation = z.output<typeof etcdLocationSchema>;

export type StoreLocation =
  | ({ kind: "embedded"; dir: string } & EmbeddedStoreOptions)
  | ({ kind: "etcd" } & EtcdLocation);

const URL_FORMS = "embedded:<dir> or etcd://host:port[,host:port…][/prefix/][?caFile=…&…]";

/** Parses a store URL (see above). */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith("embedded:")) {
    const dir = url.slice("embedded:".length).replace(/^\/\/(?=\/)/, "");
    if (dir === "") throw new StoreError(`store URL ${url}: no directory after "embedded:"`);
    return { kind: "embedded", dir };
  }
  const match = /^etcd:\/\/([^/?]+)(\/[^?]*)?(?:\?(.*))?$/.exec(url);
  if (!match) throw new StoreError(`store URL ${url}: expected ${URL_FORMS}`);
  const path = match[2] ?? "/";
  const fields: Record<string, unknown> = Object.fromEntries(new URLSearchParams(match[3] ?? ""));
  fields.endpoints = (match[1] as string).split(",");
  if (path !== "/") fields.prefix = path.endsWith("/") ? path : `${path}/`;
  const parsed = etcdLocationSchema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const what =
      issue.code === "unrecognized_keys"
        ? `unknown parameter ${issue.keys.join(", ")} (known: ${Object.keys(etcdLocationSchema.shape).join(", ")})`
        : `${issue.path.join(".")}: ${issue.message}`;
    throw new StoreError(`store URL ${url}: ${what}`);
  }
  return { kind: "etcd", ...parsed.data };
}

/**
 * The client options of an etcd location: reads its PEM and password files (StoreError naming
 * the field and file otherwise). `fabricName` gives the default prefix.
 */
export function etcdStoreOptions(location: EtcdLocation, fabricName = "default"): EtcdStoreOptions {
  const read = (field: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new StoreError(`store.etcd.${field}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const ca = read("caFile", location.caFile);
  const cert = read("certFile", location.certFile);
  const key = read("keyFile", location.keyFile);
  const password = read("passwordFile", location.passwordFile)?.toString("utf8").trim();
  if (Boolean(cert) !== Boolean(key)) {
    throw new StoreError("store.etcd: a client certificate needs both certFile and keyFile");
  }
  if (cert && !ca) throw new StoreError("store.etcd: certFile and keyFile need caFile (TLS)");
  return {
    endpoints: location.endpoints,
    prefix: location.prefix ?? defaultEtcdPrefix(fabricName),
    ...(location.dialTimeoutSeconds && { dialTimeoutMs: location.dialTimeoutSeconds * 1000 }),
    ...(location.maxTxnOps && { maxTxnOps: location.maxTxnOps }),
    ...(ca && { tls: { ca, ...(cert && key && { cert, key }) } }),
    ...(location.username && { username: location.username, password: password ?? "" }),
  };
}

export interface OpenStoreOptions {
  /** Gives etcd's default prefix, /nvgre/<fabricName>/, to a URL without one. */
  fabricName?: string;
  /** The embedded store's exclusive lock (the daemon takes it; offline tools do not). */
  exclusive?: boolean;
}

export async function openStore(
  location: StoreLocation | string,
  options: OpenStoreOptions = {},
): Promise<KvStore> {
  const resolved = typeof location === "string" ? parseStoreUrl(location) : location;
  if (resolved.kind === "embedded") {
    const { dir, kind: _, ...embedded } = resolved;
    return openEmbeddedStore(dir, {
      ...embedded,
      exclusive: options.exclusive ?? embedded.exclusive,
    });
  }
  const { kind: _, ...etcd } = resolved;
  return openEtcdStore(etcdStoreOptions(etcd, options.fabricName));
}
