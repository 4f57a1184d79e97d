/**
 * Client arbitration on the StreamChannel (P4Runtime spec "Client Arbitration and Controller
 * Replication"), as PI's server does it (proto/server/pi_server.cpp DeviceState): within a role,
 * the connected client with the highest election id is the primary; every change of primary is
 * announced to every client of the role, a client that joins or re-arbitrates without changing
 * the primary hears only its own answer. The primary gets status OK "Is primary", the others
 * ALREADY_EXISTS "Is backup", each with the primary's election id. Two clients of a role may not
 * share an election id. An unset election id counts as 0, as in PI.
 *
 * Roles are kept apart (PI ignores them; the spec gives each role its own primary). The device id
 * must be this switch's: PI would silently arbitrate a device that does not exist, which hides a
 * misconfigured controller until much later, so the softswitch answers NOT_FOUND at once.
 */

import type { Any__Output } from "../../proto/gen/google/protobuf/Any.js";
import type { MasterArbitrationUpdate__Output } from "../../proto/gen/p4/v1/MasterArbitrationUpdate.js";
import type { StreamMessageResponse } from "../../proto/gen/p4/v1/StreamMessageResponse.js";
import type { Uint128__Output } from "../../proto/gen/p4/v1/Uint128.js";
import { fromUint128, toUint128 } from "../../proto/uint128.js";
import { Code, P4RuntimeError } from "./errors.js";

/** One StreamChannel, as arbitration sees it. */
export interface StreamPeer {
  send(message: StreamMessageResponse): void;
}

interface Contender {
  role: string;
  electionId: bigint;
  /** The role's config as the client gave it (opaque to the softswitch), echoed back. */
  roleConfig: Any__Output | null;
}

/** PI's DeviceState::max_connections. */
export const MAX_CONNECTIONS = 16;

export class Arbitration {
  private readonly contenders = new Map<StreamPeer, Contender>();

  constructor(readonly deviceId: bigint) {}

  /**
   * A MasterArbitrationUpdate received on `peer`'s stream: the first one joins the election,
   * later ones change the client's election id. Throws the status that ends the stream.
   */
  arbitrate(peer: StreamPeer, update: MasterArbitrationUpdate__Output): void {
    const deviceId = BigInt(update.device_id);
    const role = update.role?.name ?? "";
    const electionId = fromUint128(update.election_id);
    const current = this.contenders.get(peer);
    if (current) {
      if (deviceId !== this.deviceId) {
        throw new P4RuntimeError(Code.FAILED_PRECONDITION, "Invalid device id");
      }
      if (role !== current.role) {
        throw new P4RuntimeError(
          Code.FAILED_PRECONDITION,
          `Invalid role: this stream arbitrates role "${current.role}", not "${role}"`,
        );
      }
      if (electionId === current.electionId) {
        this.notify(peer);
        return;
      }
      this.checkUnique(role, electionId, "New election id already exists");
      const wasPrimary = this.primaryOf(role) === peer;
      current.electionId = electionId;
      const isPrimary = this.primaryOf(role) === peer;
      if (wasPrimary !== isPrimary) this.notifyRole(role);
      else this.notify(peer);
      return;
    }
    if (deviceId !== this.deviceId) {
      throw new P4RuntimeError(
        Code.NOT_FOUND,
        `Invalid device id ${deviceId}: this switch is device ${this.deviceId}`,
      );
    }
    if (this.contenders.size >= MAX_CONNECTIONS) {
      throw new P4RuntimeError(Code.RESOURCE_EXHAUSTED, "Too many connections");
    }
    this.checkUnique(role, electionId, "Election id already exists");
    this.contenders.set(peer, { role, electionId, roleConfig: update.role?.config ?? null });
    if (this.primaryOf(role) === peer) this.notifyRole(role);
    else this.notify(peer);
  }

  /** The stream ended: if it was a primary, its role elects the next highest and hears so. */
  leave(peer: StreamPeer): void {
    const contender = this.contenders.get(peer);
    if (!contender) return;
    const wasPrimary = this.primaryOf(contender.role) === peer;
    this.contenders.delete(peer);
    if (wasPrimary) this.notifyRole(contender.role);
  }

  /** Whether this stream belongs to the primary of its role (packet-out and acks need it). */
  isPrimaryPeer(peer: StreamPeer): boolean {
    const contender = this.contenders.get(peer);
    return contender !== undefined && this.primaryOf(contender.role) === peer;
  }

  /** The primary of every role: where packet-ins, digests and notifications go. */
  primaries(): StreamPeer[] {
    const roles = new Set([...this.contenders.values()].map((c) => c.role));
    return [...roles].map((role) => this.primaryOf(role) as StreamPeer);
  }

  /**
   * Refuses a Write or SetForwardingPipelineConfig that does not come from the primary of its
   * role (PI: PERMISSION_DENIED "Not primary"). With nobody connected, a request without an
   * election id is accepted, as PI does for tools like grpc_cli.
   */
  checkPrimary(role: string, electionId: Uint128__Output | null): void {
    const primary = this.primaryOf(role);
    if (!primary) {
      if (electionId === null && this.contenders.size === 0) return;
      throw new P4RuntimeError(Code.PERMISSION_DENIED, "Not primary");
    }
    const primaryId = (this.contenders.get(primary) as Contender).electionId;
    if (electionId === null || fromUint128(electionId) !== primaryId) {
      throw new P4RuntimeError(Code.PERMISSION_DENIED, "Not primary");
    }
  }

  private checkUnique(role: string, electionId: bigint, message: string): void {
    for (const c of this.contenders.values()) {
      if (c.role === role && c.electionId === electionId) {
        throw new P4RuntimeError(Code.INVALID_ARGUMENT, message);
      }
    }
  }

  private primaryOf(role: string): StreamPeer | undefined {
    let best: StreamPeer | undefined;
    let bestId = -1n;
    for (const [peer, c] of this.contenders) {
      if (c.role === role && c.electionId > bestId) {
        best = peer;
        bestId = c.electionId;
      }
    }
    return best;
  }

  private notifyRole(role: string): void {
    for (const [peer, c] of this.contenders) if (c.role === role) this.notify(peer);
  }

  private notify(peer: StreamPeer): void {
    const { role, roleConfig } = this.contenders.get(peer) as Contender;
    const primary = this.primaryOf(role) as StreamPeer;
    const primaryId = (this.contenders.get(primary) as Contender).electionId;
    peer.send({
      arbitration: {
        device_id: this.deviceId.toString(),
        ...(role ? { role: { name: role, ...(roleConfig ? { config: roleConfig } : {}) } } : {}),
        election_id: toUint128(primaryId),
        status:
          primary === peer
            ? { code: Code.OK, message: "Is primary" }
            : { code: Code.ALREADY_EXISTS, message: "Is backup" },
      },
    });
  }
}
