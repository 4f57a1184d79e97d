// Bridging in the VSID.
//
// mac: (VSID, destination MAC) -> local port | remote NVE. Broadcast, multicast and
// unknown unicast flood to the VSID's multicast group (R10), chosen in vsid_flood:
//   group        for frames from access ports: the VSID's local ports (replica rid 0)
//                plus either one replica per remote NVE (head-end replication, rid = the
//                NVE's replica id) or one replica toward the VSID's PA multicast group
//                (rid of that group): which one is configuration, i.e. how the controller
//                builds the group. Egress prunes the copy to the ingress port.
//   local_group  for frames that came from the fabric: local ports only (split horizon).
// Routed frames are never flooded: their destination MAC must be known.
// Frames from the fabric are never sent back into the fabric (DropReason_t.SPLIT_HORIZON).

#ifndef NVGRE_BRIDGING_P4
#define NVGRE_BRIDGING_P4

control Bridging(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".bridge_to_port")
    action bridge_to_port(port_num_t port) {
        meta.kind = ForwardKind_t.TENANT_LOCAL;
        meta.out_port = port;
    }

    @name(".bridge_to_nve")
    action bridge_to_nve(nve_id_t nve_id) {
        meta.kind = ForwardKind_t.ENCAP;
        meta.nve_id = nve_id;
    }

    @name(".mac")
    table mac {
        key = {
            meta.vsid:             exact @name("vsid");
            hdr.ethernet.dst_addr: exact @name("dst_mac");
        }
        actions = {
            bridge_to_port;
            bridge_to_nve;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = MAC_TABLE_SIZE;
    }

    @name(".set_flood_groups")
    action set_flood_groups(mcast_group_t group, mcast_group_t local_group) {
        meta.flood_grp = group;
        meta.flood_grp_local = local_group;
    }

    @name(".vsid_flood")
    table vsid_flood {
        key = {
            meta.vsid: exact @name("vsid");
        }
        actions = {
            set_flood_groups;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = VSID_TABLE_SIZE;
    }

    apply {
        bool known = false;
        if (hdr.ethernet.dst_addr[40:40] == 0) {
            known = mac.apply().hit;
        }
        if (known) {
            if (meta.kind == ForwardKind_t.TENANT_LOCAL && meta.out_port == meta.ig_port &&
                meta.routed == 0) {
                set_drop(meta, DropReason_t.BRIDGE_SAME_PORT);
            } else if (meta.kind == ForwardKind_t.ENCAP && meta.from_fabric == 1) {
                set_drop(meta, DropReason_t.SPLIT_HORIZON);
            }
        } else if (meta.routed == 1) {
            set_drop(meta, DropReason_t.ROUTED_DST_UNKNOWN);
        } else {
            vsid_flood.apply();
            if (meta.from_fabric == 1) {
                meta.mcast_grp = meta.flood_grp_local;
            } else {
                meta.mcast_grp = meta.flood_grp;
            }
            if (meta.mcast_grp == 0) {
                set_drop(meta, DropReason_t.FLOOD_NO_GROUP);
            } else {
                meta.kind = ForwardKind_t.FLOOD;
                meta.count_flood = 1;
            }
        }
    }
}

#endif  // NVGRE_BRIDGING_P4
