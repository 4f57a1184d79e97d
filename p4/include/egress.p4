// The egress pipeline, architecture-neutral. The arch glue fills meta.eg_port / eg_rid,
// skips this for packets going to the CPU or sent straight by packet_out, and handles
// the drop, the MTU punt clone and the counters afterwards.
//
//   per-replica work (flood / underlay multicast copies; tunnel copies encapsulated here)
//   port re-tagging (egress_vlan)
//   MTU check (drop + punt, never fragment)

#ifndef NVGRE_EGRESS_P4
#define NVGRE_EGRESS_P4

control NvgreEgress(inout headers_t hdr, inout local_metadata_t meta) {

    EgressReplication() egress_replication;
    EgressVlan()        port_tagging;
    MtuCheck()          mtu_check;

    apply {
        if (meta.kind == ForwardKind_t.FLOOD || meta.kind == ForwardKind_t.UNDERLAY_MCAST) {
            egress_replication.apply(hdr, meta);
        }
        if (meta.to_drop == 0) {
            port_tagging.apply(hdr, meta);
        }
        if (meta.to_drop == 0) {
            mtu_check.apply(hdr, meta);
        }
    }
}

#endif  // NVGRE_EGRESS_P4
