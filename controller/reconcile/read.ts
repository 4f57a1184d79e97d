/**
 * Reads what a switch holds into canonical form: every table entry, action profile member and
 * group, multicast group and clone session (one wildcard Read), plus the default actions and
 * digest configs the desired state sets (P4Runtime reads those one by one).
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { type CanonicalCodec, isReadOneByOne } from "../compile/canonical.js";
import { SwitchState } from "../compile/state.js";
import type { P4RuntimeClient } from "../p4rt/client.js";
import { P4RuntimeRpcError } from "../p4rt/errors.js";

export async function readSwitchState(
  client: P4RuntimeClient,
  codec: CanonicalCodec,
  switchName: string,
  desired: SwitchState,
): Promise<SwitchState> {
  const state = new SwitchState(switchName);
  const entities = await client.readAll([
    { table_entry: {} },
    { action_profile_member: {} },
    { action_profile_group: {} },
    { packet_replication_engine_entry: { multicast_group_entry: {} } },
    { packet_replication_engine_entry: { clone_session_entry: {} } },
  ]);
  for (const collection of desired.collections.keys()) {
    if (!isReadOneByOne(collection)) continue;
    try {
      entities.push(...(await client.readAll([codec.readRequest(collection)])));
    } catch (error) {
      // A digest nobody configured yet reads as NOT_FOUND: nothing there.
      if (!(error instanceof P4RuntimeRpcError && error.code === GrpcStatus.NOT_FOUND)) throw error;
    }
  }
  for (const entity of entities) {
    const canonical = codec.fromEntity(entity);
    if (canonical) state.collection(canonical.collection).set(canonical.key, canonical.value);
  }
  return state;
}
