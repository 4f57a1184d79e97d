/**
 * The tables and actions of the NVGRE program the compiler fills, each resolved once from the
 * P4Info by name: a misspelt or changed name fails here, when the compiler is built, naming it.
 * The compiler passes values by these names (a missing or misspelt one fails to type-check); the
 * codec puts them in the P4Info's order.
 */
import type { CanonicalCodec } from "./canonical.js";

/** Every writer, typed by its P4 field and parameter names (values are passed by name). */
export type TableWriters = ReturnType<typeof buildWriters>;

const cache = new WeakMap<CanonicalCodec, TableWriters>();

export function tableWriters(codec: CanonicalCodec): TableWriters {
  let writers = cache.get(codec);
  if (!writers) {
    writers = buildWriters(codec);
    cache.set(codec, writers);
  }
  return writers;
}

function buildWriters(codec: CanonicalCodec) {
  const key = <const F extends string>(table: string, fields: readonly F[]) =>
    codec.keyWriter(table, fields);
  const act = <const P extends string = never>(
    table: string,
    action: string,
    params: readonly P[] = [],
  ) => codec.actionWriter(table, action, params);
  /** Values of a serializable enum the P4Info declares (a match field's type), by member. */
  const members = <const M extends string>(enumName: string, names: readonly M[]) => {
    const declared = codec.p4info.serializableEnum(enumName);
    const values = {} as Record<M, number>;
    for (const name of names) {
      const value = declared?.get(name);
      if (value === undefined) {
        throw new Error(`the P4Info has no member ${name} of serializable enum ${enumName}`);
      }
      values[name] = value;
    }
    return values;
  };
  const route = (table: string) => ({
    key: key(table, ["dst_pa"]),
    nextHop: act(table, "set_next_hop", ["port", "smac", "dmac"]),
    ecmp: act(table, "set_ecmp_group", ["group_id"]),
    mcast: act(table, "set_underlay_mcast", ["group", "smac"]),
  });
  return {
    switchConfig: {
      collection: codec.defaultCollection("switch_config"),
      set: act("switch_config", "set_switch_config", ["encap_ttl", "punt_vsid_ffffff"]),
    },
    portType: {
      key: key("port_type", ["port"]),
      access: act("port_type", "set_port_access"),
      fabric: act("port_type", "set_port_fabric"),
    },
    portVsid: {
      key: key("port_vsid", ["port", "tagged", "vlan_id"]),
      set: act("port_vsid", "set_port_vsid", ["vsid"]),
    },
    myMac: { key: key("my_mac", ["dst_mac"]), set: act("my_mac", "set_my_mac") },
    localPa: {
      4: { key: key("local_pa_v4", ["pa"]), set: act("local_pa_v4", "set_local_pa") },
      6: { key: key("local_pa_v6", ["pa"]), set: act("local_pa_v6", "set_local_pa") },
    },
    vsid: {
      key: key("vsid", ["vsid"]),
      set: act("vsid", "set_vsid", [
        "vsid_index",
        "vrf_id",
        "gw_mac",
        "learn_local",
        "learn_remote",
        "source_guard",
        "pa_check",
      ]),
    },
    sourceGuard: {
      key: key("source_guard", ["vsid", "port", "src_mac", "ca_family", "src_ca"]),
      permit: act("source_guard", "permit_source"),
      /** ca_family values: the program's CaFamily_t (NONE: neither IP nor ARP). */
      caFamily: members("CaFamily_t", ["NONE", "IPV4", "IPV6"]),
    },
    vsidNve: {
      4: { key: key("vsid_nve_v4", ["vsid", "pa"]), permit: act("vsid_nve_v4", "permit_nve") },
      6: { key: key("vsid_nve_v6", ["vsid", "pa"]), permit: act("vsid_nve_v6", "permit_nve") },
    },
    learnedMac: {
      key: key("learned_mac", ["vsid", "mac", "port", "from_nve", "pa_is_v6", "pa"]),
      known: act("learned_mac", "known_source"),
    },
    arp: {
      key: key("arp_responder", ["vsid", "ip"]),
      reply: act("arp_responder", "arp_reply", ["mac"]),
    },
    nd: {
      key: key("nd_responder", ["vsid", "ip"]),
      advertise: act("nd_responder", "nd_advertise", ["mac", "router"]),
    },
    tenantRoute: {
      4: {
        key: key("tenant_route_v4", ["vrf_id", "dst_ca"]),
        nexthop: act("tenant_route_v4", "set_tenant_nexthop", ["nexthop_id"]),
      },
      6: {
        key: key("tenant_route_v6", ["vrf_id", "dst_ca"]),
        nexthop: act("tenant_route_v6", "set_tenant_nexthop", ["nexthop_id"]),
      },
    },
    tenantNexthop: {
      key: key("tenant_nexthop", ["nexthop_id"]),
      forward: act("tenant_nexthop", "tenant_forward", ["vsid", "vsid_index", "smac", "dmac"]),
    },
    mac: {
      key: key("mac", ["vsid", "dst_mac"]),
      toPort: act("mac", "bridge_to_port", ["port"]),
      toNve: act("mac", "bridge_to_nve", ["nve_id"]),
    },
    vsidFlood: {
      key: key("vsid_flood", ["vsid"]),
      set: act("vsid_flood", "set_flood_groups", ["group", "local_group"]),
    },
    nve: {
      key: key("nve", ["nve_id"]),
      set: { 4: act("nve", "set_nve_v4", ["pa"]), 6: act("nve", "set_nve_v6", ["pa"]) },
    },
    srcPa: {
      key: key("src_pa", ["vsid", "nve_id"]),
      set: act("src_pa", "set_src_pa", ["pa_v4", "pa_v6"]),
    },
    route: { 4: route("route_v4"), 6: route("route_v6") },
    ecmp: {
      key: key("ecmp", ["group_id"]),
      member: act("ecmp", "set_next_hop", ["port", "smac", "dmac"]),
      profile: codec.profileName("ecmp_selector"),
      members: codec.memberCollection("ecmp_selector"),
      groups: codec.groupCollection("ecmp_selector"),
    },
    floodReplica: {
      key: key("flood_replica", ["rid"]),
      set: {
        4: act("flood_replica", "replicate_v4", ["dst_pa", "smac", "dmac"]),
        6: act("flood_replica", "replicate_v6", ["dst_pa", "smac", "dmac"]),
      },
    },
    egressVlan: {
      key: key("egress_vlan", ["port", "vsid"]),
      tagged: act("egress_vlan", "set_egress_vlan", ["vlan_id"]),
      untagged: act("egress_vlan", "set_egress_untagged"),
    },
    portMtu: { key: key("port_mtu", ["port"]), set: act("port_mtu", "set_port_mtu", ["mtu"]) },
    /** The learn_t digest's config collection. */
    learnDigest: codec.digestCollection("learn_t"),
  };
}
