// The ingress pipeline, architecture-neutral: the order of the concerns. The arch glue
// (p4/v1model/pipeline.p4) fills meta.ig_port / frame_len / ipv4_checksum_error, drops
// parser errors before this runs, and turns the decision (meta.kind, out_port,
// mcast_grp, to_drop, punt, raise_learn, count_*) into the target's metadata, counters
// and digest afterwards.
//
//   packet_out handling
//   port classification (switch_config, port_type, port_vsid; strip 802.1Q)
//   fabric:  tunnel termination (my_mac, local PA) -> NVGRE validation + decap
//   tenant:  VSID -> source guard / PA validation -> learning
//   ARP/ND responder (access frames; fabric ARP/NS for own PAs)
//   tenant:  tenant routing -> flow hash -> bridging -> tunnel encap
//   underlay routing + ECMP (encapsulated unicast, fabric transit)

#ifndef NVGRE_INGRESS_P4
#define NVGRE_INGRESS_P4

control NvgreIngress(inout headers_t hdr, inout local_metadata_t meta) {

    PacketIoIngress()    packet_io;
    PortClassification() port_classification;
    TunnelTermination()  tunnel_termination;
    TunnelDecap()        tunnel_decap;
    VsidClassification() vsid_classification;
    SourceGuard()        source_validation;
    Learning()           learning;
    ArpNdResponder()     arp_nd_responder;
    TenantRouting()      tenant_routing;
    FlowHasher()         flow_hasher;
    Bridging()           bridging;
    TunnelEncap()        tunnel_encap;
    UnderlayRouting()    underlay_routing;

    apply {
        packet_io.apply(hdr, meta);
        if (meta.kind != KIND_CPU) {
            port_classification.apply(hdr, meta);

            if (meta.to_drop == 0 && meta.port_type == PORT_TYPE_FABRIC) {
                tunnel_termination.apply(hdr, meta);
                if (meta.to_drop == 0 && meta.fabric_action == FABRIC_DECAP) {
                    tunnel_decap.apply(hdr, meta);
                }
            }

            // A tenant frame: from an access port, or the inner frame of a valid NVGRE
            // packet for a local PA. Nothing else ever gets a VSID (R18).
            // Set under an if: Tofino cannot assign a comparison's result.
            bool tenant = false;
            if (meta.to_drop == 0 && meta.punt == 0 &&
                (meta.port_type == PORT_TYPE_ACCESS || meta.from_fabric == 1)) {
                tenant = true;
            }
            if (tenant) {
                vsid_classification.apply(hdr, meta);
                if (meta.to_drop == 0) {
                    source_validation.apply(hdr, meta);
                }
                if (meta.to_drop == 0) {
                    if (meta.from_fabric == 1) {
                        meta.count_decap = 1;
                    }
                    learning.apply(hdr, meta);
                }
            }

            // Decapsulated frames are not answered: their NVE answers for its VMs (R16).
            if (meta.to_drop == 0 && meta.punt == 0 &&
                ((tenant && meta.from_fabric == 0) || meta.fabric_action == FABRIC_RESPOND)) {
                arp_nd_responder.apply(hdr, meta);
            }

            if (tenant && meta.to_drop == 0 && meta.kind == KIND_NONE) {
                tenant_routing.apply(hdr, meta);
                if (meta.to_drop == 0) {
                    flow_hasher.apply(hdr, meta);
                    bridging.apply(hdr, meta);
                }
                if (meta.to_drop == 0 && (meta.kind == KIND_ENCAP || meta.kind == KIND_FLOOD)) {
                    tunnel_encap.apply(hdr, meta);
                }
            }

            if (meta.to_drop == 0 &&
                (meta.kind == KIND_ENCAP || meta.fabric_action == FABRIC_TRANSIT)) {
                underlay_routing.apply(hdr, meta);
            }
        }
    }
}

#endif  // NVGRE_INGRESS_P4
