// Per-replica work in egress for floods (R10) and underlay multicast.
//
// A tenant flood's multicast group holds, per VSID:
//   rid 0        a local access port of the VSID: bridged copy (egress_vlan re-tags it);
//                the copy to the ingress port is pruned.
//   rid = R != 0 a tunnel copy: flood_replica(R) gives the tunnel destination and the
//                outer MACs; the copy is NVGRE-encapsulated here with the VSID's source
//                PA (src_pa looked up in ingress). R is the controller's replica id of a
//                remote NVE (head-end replication: one copy per NVE of the VSID, the
//                group node's port being the controller's route to that NVE) or of the
//                VSID's administratively scoped PA multicast group. No ECMP: the group
//                node fixes the port.
// Frames that came from the fabric never get tunnel copies (split horizon); their VSIDs'
// local_group has none, and egress refuses them anyway.
// Underlay multicast copies (transit of PA multicast groups) only lose the ingress port.

#ifndef NVGRE_EGRESS_REPLICATION_P4
#define NVGRE_EGRESS_REPLICATION_P4

control EgressReplication(inout headers_t hdr, inout local_metadata_t meta) {

    TunnelEncapHeaders() encap_headers;

    @name(".replicate_v4")
    action replicate_v4(ipv4_addr_t dst_pa, mac_addr_t smac, mac_addr_t dmac) {
        meta.nve_is_v6 = 0;
        meta.nve_pa_v4 = dst_pa;
        meta.nh_smac = smac;
        meta.nh_dmac = dmac;
    }

    @name(".replicate_v6")
    action replicate_v6(ipv6_addr_t dst_pa, mac_addr_t smac, mac_addr_t dmac) {
        meta.nve_is_v6 = 1;
        meta.nve_pa_v6 = dst_pa;
        meta.nh_smac = smac;
        meta.nh_dmac = dmac;
    }

    @name(".flood_replica")
    table flood_replica {
        key = {
            meta.eg_rid: exact @name("rid");
        }
        actions = {
            replicate_v4;
            replicate_v6;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = REPLICA_TABLE_SIZE;
    }

    apply {
        if (meta.kind == ForwardKind_t.UNDERLAY_MCAST) {
            if (meta.eg_port == meta.ig_port) {
                set_drop(meta, DropReason_t.FLOOD_PRUNE);
            }
        } else if (meta.eg_rid == 0) {
            if (meta.eg_port == meta.ig_port) {
                set_drop(meta, DropReason_t.FLOOD_PRUNE);
            } else {
                meta.kind = ForwardKind_t.TENANT_LOCAL;
            }
        } else if (meta.from_fabric == 1) {
            set_drop(meta, DropReason_t.SPLIT_HORIZON);
        } else if (!flood_replica.apply().hit) {
            set_drop(meta, DropReason_t.REPLICA_UNKNOWN);
        } else {
            encap_headers.apply(hdr, meta);
            if (meta.to_drop == 0) {
                hdr.tun_ethernet.src_addr = meta.nh_smac;
                hdr.tun_ethernet.dst_addr = meta.nh_dmac;
                meta.kind = ForwardKind_t.ENCAP;
            }
        }
    }
}

#endif  // NVGRE_EGRESS_REPLICATION_P4
