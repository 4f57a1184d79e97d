// The ingress pipeline, architecture-neutral: the order of the concerns. The arch glue
// (p4/v1model/pipeline.p4) fills meta.ig_port / frame_len / ipv4_checksum_error /
// parser_stopped*, and turns the decision (meta.kind, out_port, mcast_grp, to_drop, punt,
// raise_learn, count_*) into the target's metadata, counters and digest afterwards.
//
//   parser errors (R4): a frame whose Ethernet header or 802.1Q tag did not parse, or
//     that carries a tag it cannot strip, is dropped (DropReason_t.PARSER_ERROR). A failure past
//     that only matters where the switch acts on L3: on the fabric side (routing, NVGRE
//     termination), unless it lies inside an NVGRE packet's inner frame past its Ethernet
//     header; in tenant routing, the ARP/ND responder and the source guard on CAs. Any
//     other tenant frame is bridged and encapsulated unchanged (meta.l3_unparsed).
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
        if (meta.parser_stopped == 1) {
            bool l2_parsed = hdr.ethernet.isValid() && meta.parser_stopped_at_tag == 0 &&
                             (hdr.ethernet.ether_type != ETHERTYPE_VLAN || hdr.vlan.isValid());
            if (l2_parsed) {
                meta.l3_unparsed = 1;
            } else {
                set_drop(meta, DropReason_t.PARSER_ERROR);
            }
        }
        if (meta.to_drop == 0) {
            packet_io.apply(hdr, meta);
        }
        if (meta.to_drop == 0 && meta.kind != ForwardKind_t.CPU) {
            port_classification.apply(hdr, meta);

            // The fabric side acts on the outer headers: they must all have parsed, so the
            // failure must lie in an inner frame whose Ethernet header (and tag) did.
            if (meta.to_drop == 0 && meta.port_type == PortType_t.FABRIC && meta.l3_unparsed == 1) {
                bool inner_l2_parsed = hdr.inner_ethernet.isValid() &&
                    (hdr.inner_vlan.isValid() ||
                     (hdr.inner_ethernet.ether_type != ETHERTYPE_VLAN &&
                      hdr.inner_ethernet.ether_type != ETHERTYPE_QINQ &&
                      hdr.inner_ethernet.ether_type != ETHERTYPE_QINQ_LEGACY));
                if (!inner_l2_parsed) {
                    set_drop(meta, DropReason_t.PARSER_ERROR);
                }
            }

            if (meta.to_drop == 0 && meta.port_type == PortType_t.FABRIC) {
                tunnel_termination.apply(hdr, meta);
                if (meta.to_drop == 0 && meta.fabric_action == FabricAction_t.DECAP) {
                    tunnel_decap.apply(hdr, meta);
                }
            }

            // A tenant frame: from an access port, or the inner frame of a valid NVGRE
            // packet for a local PA. Nothing else ever gets a VSID (R18).
            // Set under an if: Tofino cannot assign a comparison's result.
            bool tenant = false;
            if (meta.to_drop == 0 && meta.punt == 0 &&
                (meta.port_type == PortType_t.ACCESS || meta.from_fabric == 1)) {
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
            // Nor are frames whose ARP / ND did not parse: they are bridged (R4).
            if (meta.to_drop == 0 && meta.punt == 0 &&
                ((tenant && meta.from_fabric == 0 && meta.l3_unparsed == 0) ||
                 meta.fabric_action == FabricAction_t.RESPOND)) {
                arp_nd_responder.apply(hdr, meta);
            }

            if (tenant && meta.to_drop == 0 && meta.kind == ForwardKind_t.NONE) {
                tenant_routing.apply(hdr, meta);
                if (meta.to_drop == 0) {
                    flow_hasher.apply(hdr, meta);
                    bridging.apply(hdr, meta);
                }
                if (meta.to_drop == 0 && (meta.kind == ForwardKind_t.ENCAP || meta.kind == ForwardKind_t.FLOOD)) {
                    tunnel_encap.apply(hdr, meta);
                }
            }

            if (meta.to_drop == 0 &&
                (meta.kind == ForwardKind_t.ENCAP || meta.fabric_action == FabricAction_t.TRANSIT)) {
                underlay_routing.apply(hdr, meta);
            }
        }
    }
}

#endif  // NVGRE_INGRESS_P4
