/**
 * What a daemon replica runs on, from its settings: the intent store and the election that
 * goes with it. The embedded store (one host, no server) comes with a local election that this
 * only replica always wins; an etcd store with an election among every replica on that etcd.
 */
import { readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { EtcdElection } from "../cluster/election.js";
import { LocalElection } from "../cluster/local-election.js";
import type { Allocations } from "../compile/allocate.js";
import type { FabricDocument } from "../intent/schema.js";
import { openEmbeddedStore } from "../intent/store/embedded.js";
import { openEtcdStore } from "../intent/store/etcd.js";
import type { KvStore } from "../intent/store/types.js";
import { type DaemonConfig, DaemonConfigError, type EtcdStoreConfig } from "./config.js";
import type { ClusterView } from "./leadership.js";
import { StoredIntent } from "./stored-intent.js";

export interface Replica {
  store: KvStore;
  cluster: ClusterView;
}

export async function openReplica(config: DaemonConfig): Promise<Replica> {
  if (config.store === "embedded") {
    // Exclusive: a second daemon on the same state directory is refused at once.
    const store = await openEmbeddedStore(config.stateDir, { exclusive: true });
    await importLegacyIntent(store, join(config.stateDir, "intent.json"));
    return { store, cluster: new LocalElection(store) };
  }
  const etcd = config.store.etcd;
  const store = await openEtcdStore(etcdOptions(etcd));
  return {
    store,
    cluster: new EtcdElection(store, { ttlSeconds: config.leaseTtlSeconds }),
  };
}

function etcdOptions(etcd: EtcdStoreConfig) {
  const read = (field: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new DaemonConfigError(
        `store.etcd.${field}: cannot read ${path}: ${(error as Error).message}`,
      );
    }
  };
  const password = read("passwordFile", etcd.passwordFile)?.toString("utf8").trim();
  return {
    endpoints: etcd.endpoints,
    prefix: etcd.prefix,
    dialTimeoutMs: etcd.dialTimeoutSeconds * 1000,
    ...(etcd.caFile ? { ca: read("caFile", etcd.caFile) } : {}),
    ...(etcd.certFile ? { cert: read("certFile", etcd.certFile) } : {}),
    ...(etcd.keyFile ? { key: read("keyFile", etcd.keyFile) } : {}),
    ...(etcd.username ? { username: etcd.username, password: password ?? "" } : {}),
  };
}

/**
 * The previous version kept the whole intent in <stateDir>/intent.json. Into an empty store
 * it is imported once, ids included (so nothing on the switches changes), and renamed aside.
 */
async function importLegacyIntent(store: KvStore, path: string): Promise<void> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return;
  }
  const stored = await StoredIntent.load(store);
  if (!stored.empty) return;
  const legacy = JSON.parse(text) as { document: FabricDocument; allocations: Allocations };
  await stored.commit(stored.prepare(legacy.document), legacy.allocations, {
    trigger: `imported ${path} (the previous version's intent store)`,
    actor: "controller",
  });
  renameSync(path, `${path}.imported`);
}
