/**
 * Opens the store a URL names, so a flag or config file can choose it:
 *
 *   embedded:/var/lib/nvgre          the embedded SQLite store in that directory
 *   etcd://h1:2379,h2:2379/?prefix=/nvgre/demo/&ca=/etc/nvgre/ca.pem&cert=…&key=…&user=…&password=…&dialTimeoutMs=3000&maxTxnOps=128
 *                                    etcd; the endpoints in the authority, all else as query
 *                                    parameters (ca/cert/key are PEM file paths; with ca the
 *                                    connection uses TLS). `prefix` defaults to /nvgre/<fabric>/.
 */
import { readFileSync } from "node:fs";
import { type EmbeddedStoreOptions, openEmbeddedStore } from "./embedded.js";
import { StoreError } from "./errors.js";
import { defaultEtcdPrefix, type EtcdStoreOptions, openEtcdStore } from "./etcd.js";
import type { KvStore } from "./types.js";

export type StoreConfig =
  | ({ kind: "embedded"; dir: string } & EmbeddedStoreOptions)
  | ({ kind: "etcd" } & EtcdStoreOptions);

/** Parses a store URL (see above); `fabricName` gives etcd's default prefix. */
export function parseStoreUrl(url: string, fabricName = "default"): StoreConfig {
  if (url.startsWith("embedded:")) {
    const dir = url.slice("embedded:".length).replace(/^\/\/(?=\/)/, "");
    if (dir === "") throw new StoreError(`store URL ${url}: no directory after "embedded:"`);
    return { kind: "embedded", dir };
  }
  const match = /^etcds?:\/\/([^/?]+)\/?(?:\?(.*))?$/.exec(url);
  if (!match) {
    throw new StoreError(
      `store URL ${url}: expected embedded:<dir> or etcd://host:port[,host:port…]/?prefix=…`,
    );
  }
  const params = new URLSearchParams(match[2] ?? "");
  const known = new Set([
    "prefix",
    "ca",
    "cert",
    "key",
    "user",
    "password",
    "dialTimeoutMs",
    "maxTxnOps",
  ]);
  for (const name of params.keys()) {
    if (!known.has(name))
      throw new StoreError(
        `store URL ${url}: unknown parameter ${name} (known: ${[...known].join(", ")})`,
      );
  }
  const file = (name: string): Buffer | undefined => {
    const path = params.get(name);
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new StoreError(`store URL ${url}: ${name} file ${path}: ${(error as Error).message}`);
    }
  };
  const config: StoreConfig = {
    kind: "etcd",
    endpoints: (match[1] as string).split(","),
    prefix: params.get("prefix") ?? defaultEtcdPrefix(fabricName),
  };
  const ca = file("ca");
  if (ca)
    config.tls = {
      ca,
      ...(params.has("cert") && { cert: file("cert") }),
      ...(params.has("key") && { key: file("key") }),
    };
  if (params.has("user")) config.username = params.get("user") as string;
  if (params.has("password")) config.password = params.get("password") as string;
  if (params.has("dialTimeoutMs")) config.dialTimeoutMs = Number(params.get("dialTimeoutMs"));
  if (params.has("maxTxnOps")) config.maxTxnOps = Number(params.get("maxTxnOps"));
  return config;
}

export interface OpenStoreOptions {
  /** Gives etcd's default prefix, /nvgre/<fabricName>/, to a URL without one. */
  fabricName?: string;
  /** The embedded store's exclusive lock (the daemon takes it; offline tools do not). */
  exclusive?: boolean;
}

export async function openStore(
  config: StoreConfig | string,
  options: OpenStoreOptions = {},
): Promise<KvStore> {
  const resolved = typeof config === "string" ? parseStoreUrl(config, options.fabricName) : config;
  if (resolved.kind === "embedded") {
    const { dir, kind: _, ...embedded } = resolved;
    return openEmbeddedStore(dir, {
      ...embedded,
      exclusive: options.exclusive ?? embedded.exclusive,
    });
  }
  const { kind: _, ...etcd } = resolved;
  return openEtcdStore(etcd);
}
