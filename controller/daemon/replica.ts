/**
 * What a daemon replica runs on, from its settings: the intent store and the election that
 * goes with it. The embedded store (one host, no server) comes with a local election that this
 * only replica always wins; an etcd store with an election among every replica on that etcd.
 */
import { readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { EtcdElection } from "../cluster/election.js";
import { LocalElection } from "../cluster/local-election.js";
import type { Election } from "../cluster/types.js";
import type { Allocations } from "../compile/allocate.js";
import type { FabricDocument } from "../intent/schema.js";
import { openEmbeddedStore } from "../intent/store/embedded.js";
import { openEtcdStore } from "../intent/store/etcd.js";
import { etcdStoreOptions } from "../intent/store/open.js";
import type { KvStore } from "../intent/store/types.js";
import type { DaemonConfig } from "./config.js";
import { StoredIntent } from "./stored-intent.js";

export interface Replica {
  store: KvStore;
  election: Election;
}

export async function openReplica(config: DaemonConfig): Promise<Replica> {
  if (config.store === "embedded") {
    // Exclusive: a second daemon on the same state directory is refused at once.
    const store = await openEmbeddedStore(config.stateDir, { exclusive: true });
    await importLegacyIntent(store, join(config.stateDir, "intent.json"));
    return { store, election: new LocalElection(store) };
  }
  const etcd = config.store.etcd;
  const store = await openEtcdStore(etcdStoreOptions(etcd));
  const election = new EtcdElection(store, {
    ttlSeconds: config.leaseTtlSeconds,
    maxStallSeconds: config.leaderMaxStallSeconds,
  });
  return { store, election };
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
