/** The election that fits a store: etcd's lease-based one, or the local one of the embedded store. */
import type { EtcdKvStore } from "../intent/store/etcd.js";
import type { KvStore } from "../intent/store/types.js";
import { createEtcdElection, type EtcdElectionOptions } from "./election.js";
import { LocalElection } from "./local-election.js";
import type { Election } from "./types.js";

export function openElection(store: KvStore, options: EtcdElectionOptions = {}): Election {
  return store.kind === "etcd"
    ? createEtcdElection(store as EtcdKvStore, options)
    : new LocalElection(store);
}
