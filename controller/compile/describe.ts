/**
 * Entities as people read them (dry-run plans, rejected writes, the goldens, the table view):
 * fields and parameters by P4 name, each value in the notation its width implies. Display only:
 * canonical.ts decodes its compact form into the shapes below; nothing reads this text back.
 */
import ipaddr from "ipaddr.js";

/** A match field's value: exact, ternary or LPM (canonical.ts's decoding of a key). */
export type DecodedMatchValue =
  | bigint
  | { value: bigint; mask: bigint }
  | { value: bigint; prefixLength: number };

/** A match field; value undefined = don't care (left out of the text). */
export interface DecodedField {
  name: string;
  bitwidth: number;
  value: DecodedMatchValue | undefined;
}

/** An action parameter; value undefined = the switch sent none. */
export interface DecodedParam {
  name: string;
  bitwidth: number;
  value: bigint | undefined;
}

export interface DecodedAction {
  action: string;
  params: DecodedParam[];
}

export interface Replica {
  port: number;
  instance: number;
}

/** One canonical entity, decoded with names and widths from the P4Info. */
export type DecodedEntity =
  | {
      kind: "table";
      table: string;
      match: DecodedField[];
      priority: number | undefined;
      target: DecodedAction | { member: number } | { group: number };
      idleTimeoutNs: number;
    }
  | { kind: "default"; table: string; action: DecodedAction }
  | { kind: "member"; profile: string; id: number; action: DecodedAction }
  | { kind: "group"; profile: string; id: number; members: { id: number; weight: number }[] }
  | { kind: "mcast"; id: number; replicas: Replica[] }
  | { kind: "clone"; id: number; replicas: Replica[]; truncateBytes: number }
  | {
      kind: "digest";
      digest: string;
      maxTimeoutNs: number;
      maxListSize: number;
      ackTimeoutNs: number;
    };

/** One line naming every field: `mac vsid=0x5001 dst_mac=00:00:5e:00:53:01 → bridge_to_port(port=1)`. */
export function describeEntity(entity: DecodedEntity): string {
  switch (entity.kind) {
    case "table": {
      const fields = entity.match
        .filter((f) => f.value !== undefined)
        .map((f) => ` ${f.name}=${matchText(f.value as DecodedMatchValue, f.bitwidth)}`);
      const priority = entity.priority === undefined ? "" : ` #${entity.priority}`;
      const ageing = entity.idleTimeoutNs ? `, idle timeout ${entity.idleTimeoutNs / 1e9} s` : "";
      return `${entity.table}${fields.join("")}${priority} → ${targetText(entity.target)}${ageing}`;
    }
    case "default":
      return `${entity.table} default → ${actionText(entity.action)}`;
    case "member":
      return `${entity.profile} member ${entity.id} → ${actionText(entity.action)}`;
    case "group": {
      const members = entity.members.map((m) => `${m.id}*${m.weight}`).join(",");
      return `${entity.profile} group ${entity.id} → members ${members}`;
    }
    case "mcast":
      return `multicast group ${entity.id} → ${replicasText(entity.replicas)}`;
    case "clone": {
      const truncate = entity.truncateBytes ? ` truncate ${entity.truncateBytes}` : "";
      return `clone session ${entity.id} → ${replicasText(entity.replicas)}${truncate}`;
    }
    case "digest":
      return `digest ${entity.digest} → timeout,list,ack ${entity.maxTimeoutNs},${entity.maxListSize},${entity.ackTimeoutNs}`;
  }
}

function targetText(target: DecodedAction | { member: number } | { group: number }): string {
  if ("member" in target) return `member:${target.member}`;
  if ("group" in target) return `group:${target.group}`;
  return actionText(target);
}

function actionText({ action, params }: DecodedAction): string {
  const values = params.map(
    (p) => `${p.name}=${p.value === undefined ? "?" : valueText(p.value, p.bitwidth)}`,
  );
  return `${action}(${values.join(", ")})`;
}

function matchText(match: DecodedMatchValue, bitwidth: number): string {
  if (typeof match === "bigint") return valueText(match, bitwidth);
  if ("mask" in match) {
    return `${valueText(match.value, bitwidth)}&${valueText(match.mask, bitwidth)}`;
  }
  return `${valueText(match.value, bitwidth)}/${match.prefixLength}`;
}

function replicasText(replicas: Replica[]): string {
  if (replicas.length === 0) return "(none)";
  return replicas.map((r) => `port ${r.port}${r.instance ? ` rid ${r.instance}` : ""}`).join(", ");
}

/**
 * A value in the notation of its width. The P4Info names no address types (P4 typedefs do not
 * reach it), and the program's widths are unambiguous: 24 bits is a VSID (RFC 7637, in hex as
 * the fabric file writes it), 32 an IPv4 and 128 an IPv6 address, 48 a MAC; other widths are
 * ports, flags, counts and ids, in decimal.
 */
export function valueText(value: bigint, bitwidth: number): string {
  switch (bitwidth) {
    case 24:
      return `0x${value.toString(16)}`;
    case 32:
      return new ipaddr.IPv4(parts(value, 4, 8)).toString();
    case 128:
      // ipaddr.js gives the RFC 5952 text (lower case, the longest zero run as "::").
      return new ipaddr.IPv6(parts(value, 8, 16)).toString();
    case 48:
      return parts(value, 6, 8)
        .map((b) => b.toString(16).padStart(2, "0"))
        .join(":");
    default:
      return value.toString(10);
  }
}

/** `value` as `count` unsigned numbers of `bits` bits each, most significant first. */
function parts(value: bigint, count: number, bits: number): number[] {
  const mask = (1n << BigInt(bits)) - 1n;
  return Array.from({ length: count }, (_, i) =>
    Number((value >> BigInt((count - 1 - i) * bits)) & mask),
  );
}
