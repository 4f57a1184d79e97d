// TNA ingress / egress glue around the shared pipelines, and the deparsers.
//
// The counterpart of p4/v1model/pipeline.p4 + checksums.p4: the only place that touches
// Tofino's intrinsic metadata. Same counters (P4Runtime names), same decision handling:
//   port_rx[ingress port]  port_tx[egress port]  drops[reason]  egress_drops[reason]
//   vsid_decap / vsid_encap / vsid_flood[vsid_index]                                (R15)
// What differs, and why:
//   - Ingress -> egress: TNA metadata does not cross the traffic manager; ingress bridges
//     what egress needs in bridged_md_t, egress re-parses the headers it changes.
//   - Lengths: Tofino ingress does not know the packet length. Ingress builds a unicast
//     encapsulation (tun_*) as the shared TunnelEncap does; egress, which knows
//     eg_intr_md.pkt_length, then writes the outer IPv4 total length / IPv6 payload length,
//     and the flood replicas' frame length, before the shared egress (MTU check: R12) runs.
//   - Checksums: the egress deparser's Checksum computes the outer IPv4 header checksum (R1);
//     the ingress deparser's recomputes a routed layer-1 IPv4 header (TTL changed) and the
//     ICMPv6 checksum of a Neighbor Advertisement built in place (R16).
//   - Multicast (R10): mcast_grp_a = the group; the PRE's replicas carry rid = the P4Runtime
//     replica instance, which egress reads as egress_rid. ig_tm_md.rid is the PRE's pruning
//     id (a replica whose node RID equals it is subject to L2 exclusion pruning), not a
//     replica's instance: it is set to a RID no node has, and egress prunes the copy to the
//     ingress port itself (DropReason_t.FLOOD_PRUNE), as in v1model.
//   - Punts and packet-out use CPU_PORT (arch.p4). MTU punts (R12): egress drops the packet and
//     mirrors it (E2E) to CPU_MIRROR_SESSION with punt_mirror_md_t in front, which egress turns
//     into packet_in when the copy comes back.
//   - Learning (R17 / learning.p4): the Digest extern in the ingress deparser, named learn_t.

#ifndef NVGRE_TNA_PIPELINE_P4
#define NVGRE_TNA_PIPELINE_P4

// No multicast node is created with this RID (the controller's replica instances are small),
// so no replica is ever L2-pruned by the PRE.
const bit<16> RID_NO_PRUNING = 0xFFFF;

control TnaIngress(inout ingress_headers_t hdr,
                   inout ingress_metadata_t md,
                   in ingress_intrinsic_metadata_t ig_intr_md,
                   in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,
                   inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                   inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {

    @name(".port_rx")
    Counter<bit<64>, port_num_t>(PORT_COUNT, CounterType_t.PACKETS_AND_BYTES) port_rx;
    @name(".drops")
    Counter<bit<64>, DropReason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) drops;
    @name(".vsid_decap")
    Counter<bit<64>, vsid_index_t>(VSID_TABLE_SIZE, CounterType_t.PACKETS_AND_BYTES) vsid_decap;
    @name(".vsid_flood")
    Counter<bit<64>, vsid_index_t>(VSID_TABLE_SIZE, CounterType_t.PACKETS_AND_BYTES) vsid_flood;

    NvgreIngress() nvgre_ingress;

    @hidden
    action bridge(bit<1> has_tun) {
        hdr.bridged.setValid();
        hdr.bridged.md_type = MD_TYPE_BRIDGED;
        hdr.bridged._pad0 = 0;
        hdr.bridged.ig_port = md.nvgre.ig_port;
        hdr.bridged._pad1 = 0;
        hdr.bridged.kind = md.nvgre.kind;
        hdr.bridged._pad2 = 0;
        hdr.bridged.from_fabric = md.nvgre.from_fabric;
        hdr.bridged.punt = md.nvgre.punt;
        hdr.bridged.has_tun = has_tun;
        hdr.bridged.punt_reason = md.nvgre.punt_reason;
        hdr.bridged.vsid = md.nvgre.vsid;
        hdr.bridged._pad3 = 0;
        hdr.bridged.vsid_index = md.nvgre.vsid_index;
        hdr.bridged.flow_id = md.nvgre.flow_id;
        hdr.bridged._pad4 = 0;
        hdr.bridged.flow_label = md.nvgre.flow_label;
        hdr.bridged.encap_ttl = md.nvgre.encap_ttl;
        hdr.bridged.src_pa_v4 = md.nvgre.src_pa_v4;
        hdr.bridged.src_pa_v6 = md.nvgre.src_pa_v6;
    }

    apply {
        md.nvgre.ig_port = ig_intr_md.ingress_port;
        if (hdr.nvgre.ipv4.isValid() && !md.ipv4_checksum_ok) {
            md.nvgre.ipv4_checksum_error = 1;
        }
        port_rx.count(ig_intr_md.ingress_port);

        // What a parser error costs is decided by the shared ingress (R4), as on v1model.
        if (ig_prsr_md.parser_err != PARSER_ERROR_OK || md.parse_bad == 1 ||
            md.parse_bad_tag == 1) {
            md.nvgre.parser_stopped = 1;
            md.nvgre.parser_stopped_at_tag = md.parse_bad_tag;
        }
        nvgre_ingress.apply(hdr.nvgre, md.nvgre);
        // Unparsed IPv4 options would be decapsulated, transited or routed with a header
        // checksum recomputed without them: refused where that could happen.
        if (md.ipv4_options == 1 && md.nvgre.to_drop == 0 &&
            (md.nvgre.port_type == PortType_t.FABRIC || md.nvgre.routed == 1)) {
            set_drop(md.nvgre, DropReason_t.PARSER_ERROR);
        }
        hdr.nvgre.packet_out.setInvalid();

        if (md.nvgre.to_drop == 0 && md.nvgre.punt == 0 && md.nvgre.kind == ForwardKind_t.NONE) {
            set_drop(md.nvgre, DropReason_t.NO_DECISION);
        }
        if (md.nvgre.drop_reason != DropReason_t.NONE) {
            drops.count(md.nvgre.drop_reason);
        }
        if (md.nvgre.count_decap == 1) {
            vsid_decap.count(md.nvgre.vsid_index);
        }
        if (md.nvgre.raise_learn == 1) {
            ig_dprsr_md.digest_type = DIGEST_TYPE_LEARN;
        }
        if (hdr.nvgre.ipv4.isValid() &&
            (md.nvgre.routed == 1 || md.nvgre.fabric_action == FabricAction_t.TRANSIT)) {
            md.update_ipv4_checksum = 1;
        }
        if (md.nvgre.nd_reply == 1) {
            md.nd_upper_len = (bit<32>)ND_NA_LEN;
            md.nd_next_header = (bit<32>)IP_PROTO_ICMPV6;
        }

        if (md.nvgre.to_drop == 1) {
            ig_dprsr_md.drop_ctl = 1;
        } else {
            if (md.nvgre.punt == 1) {
                md.nvgre.kind = ForwardKind_t.CPU;
                ig_tm_md.ucast_egress_port = CPU_PORT;
            } else if (md.nvgre.kind == ForwardKind_t.FLOOD || md.nvgre.kind == ForwardKind_t.UNDERLAY_MCAST) {
                ig_tm_md.mcast_grp_a = md.nvgre.mcast_grp;
                ig_tm_md.rid = RID_NO_PRUNING;
                if (md.nvgre.count_flood == 1) {
                    vsid_flood.count(md.nvgre.vsid_index);
                }
            } else {
                ig_tm_md.ucast_egress_port = md.nvgre.out_port;
            }
            if (hdr.nvgre.tun_ethernet.isValid()) {
                bridge(1);
            } else {
                bridge(0);
            }
        }
    }
}

control TnaIngressDeparser(packet_out pkt,
                           inout ingress_headers_t hdr,
                           in ingress_metadata_t md,
                           in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                           in ingress_intrinsic_metadata_t ig_intr_md) {

    Checksum() ipv4_checksum;
    Checksum() icmpv6_checksum;
    @name(".learn_t")
    Digest<learn_t>(DIGEST_TYPE_LEARN) learn_digest;
    NvgreDeparser() nvgre_deparser;

    apply {
        if (ig_dprsr_md.digest_type == DIGEST_TYPE_LEARN) {
            learn_digest.pack(md.nvgre.learn);
        }
        if (md.update_ipv4_checksum == 1) {
            hdr.nvgre.ipv4.hdr_checksum = ipv4_checksum.update({
                hdr.nvgre.ipv4.version,
                hdr.nvgre.ipv4.ihl,
                hdr.nvgre.ipv4.dscp,
                hdr.nvgre.ipv4.ecn,
                hdr.nvgre.ipv4.total_len,
                hdr.nvgre.ipv4.identification,
                hdr.nvgre.ipv4.flags,
                hdr.nvgre.ipv4.frag_offset,
                hdr.nvgre.ipv4.ttl,
                hdr.nvgre.ipv4.protocol,
                hdr.nvgre.ipv4.src_addr,
                hdr.nvgre.ipv4.dst_addr });
        }
        // Pseudo-header (addresses, upper-layer length, next header) + the whole 32-byte NA.
        if (md.nvgre.nd_reply == 1) {
            hdr.nvgre.icmpv6.checksum = icmpv6_checksum.update({
                hdr.nvgre.ipv6.src_addr,
                hdr.nvgre.ipv6.dst_addr,
                md.nd_upper_len,
                md.nd_next_header,
                hdr.nvgre.icmpv6.type,
                hdr.nvgre.icmpv6.code,
                hdr.nvgre.ndp.flags,
                hdr.nvgre.ndp.target,
                hdr.nvgre.nd_option.type,
                hdr.nvgre.nd_option.len,
                hdr.nvgre.nd_option.lladdr });
        }
        pkt.emit(hdr.bridged);
        nvgre_deparser.apply(pkt, hdr.nvgre);
    }
}

control TnaEgress(inout egress_headers_t hdr,
                  inout egress_metadata_t md,
                  in egress_intrinsic_metadata_t eg_intr_md,
                  in egress_intrinsic_metadata_from_parser_t eg_prsr_md,
                  inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
                  inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {

    @name(".port_tx")
    Counter<bit<64>, port_num_t>(PORT_COUNT, CounterType_t.PACKETS_AND_BYTES) port_tx;
    @name(".egress_drops")
    Counter<bit<64>, DropReason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) egress_drops;
    @name(".vsid_encap")
    Counter<bit<64>, vsid_index_t>(VSID_TABLE_SIZE, CounterType_t.PACKETS_AND_BYTES) vsid_encap;

    PacketIoEgress() packet_io;
    NvgreEgress()    nvgre_egress;

    @hidden
    action unbridge() {
        md.nvgre.ig_port = hdr.bridged.ig_port;
        md.nvgre.kind = hdr.bridged.kind;
        md.nvgre.from_fabric = hdr.bridged.from_fabric;
        md.nvgre.punt = hdr.bridged.punt;
        md.nvgre.punt_reason = hdr.bridged.punt_reason;
        md.nvgre.vsid = hdr.bridged.vsid;
        md.nvgre.vsid_index = hdr.bridged.vsid_index;
        md.nvgre.flow_id = hdr.bridged.flow_id;
        md.nvgre.flow_label = hdr.bridged.flow_label;
        md.nvgre.encap_ttl = hdr.bridged.encap_ttl;
        md.nvgre.src_pa_v4 = hdr.bridged.src_pa_v4;
        md.nvgre.src_pa_v6 = hdr.bridged.src_pa_v6;
        md.nvgre.eg_port = eg_intr_md.egress_port;
        md.nvgre.eg_rid = eg_intr_md.egress_rid;
        hdr.bridged.setInvalid();
    }

    apply {
        if (hdr.punt_mirror.isValid()) {
            // The MTU punt copy (R12), back from the mirror session on the CPU port.
            md.nvgre.ig_port = hdr.punt_mirror.ig_port;
            md.nvgre.punt_reason = hdr.punt_mirror.punt_reason;
            md.nvgre.port_mtu = hdr.punt_mirror.port_mtu;
            hdr.punt_mirror.setInvalid();
            packet_io.apply(hdr.nvgre, md.nvgre);
            port_tx.count(eg_intr_md.egress_port);
        } else if (hdr.bridged.isValid()) {
            unbridge();
            if (md.nvgre.kind == ForwardKind_t.CPU) {
                // Ingress punt (packet_in needed) or packet_out sent straight to a port.
                if (md.nvgre.punt == 1) {
                    packet_io.apply(hdr.nvgre, md.nvgre);
                }
                port_tx.count(eg_intr_md.egress_port);
            } else {
                // Lengths ingress could not know: the outer IP length of its encapsulation,
                // or the frame a flood replica encapsulates here.
                if (hdr.nvgre.tun_ipv4.isValid()) {
                    hdr.nvgre.tun_ipv4.total_len =
                        eg_intr_md.pkt_length - (EGRESS_PKT_LENGTH_OVERHEAD + ETH_HDR_BYTES);
                } else if (hdr.nvgre.tun_ipv6.isValid()) {
                    hdr.nvgre.tun_ipv6.payload_len =
                        eg_intr_md.pkt_length -
                        (EGRESS_PKT_LENGTH_OVERHEAD + ETH_HDR_BYTES + IPV6_HDR_BYTES);
                } else {
                    md.nvgre.frame_len = eg_intr_md.pkt_length - EGRESS_PKT_LENGTH_OVERHEAD;
                }
                // Ingress counted its reasons; egress counts only its own.
                md.nvgre.drop_reason = DropReason_t.NONE;
                nvgre_egress.apply(hdr.nvgre, md.nvgre);

                if (md.nvgre.to_drop == 1) {
                    egress_drops.count(md.nvgre.drop_reason);
                    if (md.nvgre.punt == 1) {
                        eg_dprsr_md.mirror_type = MIRROR_TYPE_PUNT;
                        md.mirror_session = CPU_MIRROR_SESSION;
                        md.mirror_md_type = MD_TYPE_PUNT_MIRROR;
                    }
                    eg_dprsr_md.drop_ctl = 1;
                } else {
                    port_tx.count(eg_intr_md.egress_port);
                    if (md.nvgre.kind == ForwardKind_t.ENCAP) {
                        vsid_encap.count(md.nvgre.vsid_index);
                    }
                }
            }
        }
    }
}

control TnaEgressDeparser(packet_out pkt,
                          inout egress_headers_t hdr,
                          in egress_metadata_t md,
                          in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
                          in egress_intrinsic_metadata_t eg_intr_md,
                          in egress_intrinsic_metadata_from_parser_t eg_prsr_md) {

    Checksum() tun_ipv4_checksum;
    Mirror(MIRROR_TYPE_PUNT) punt_mirror;
    NvgreDeparser() nvgre_deparser;

    apply {
        if (eg_dprsr_md.mirror_type == MIRROR_TYPE_PUNT) {
            punt_mirror.emit<punt_mirror_md_t>(md.mirror_session, {
                md.mirror_md_type, 7w0, md.nvgre.ig_port, md.nvgre.punt_reason,
                md.nvgre.port_mtu });
        }
        if (hdr.nvgre.tun_ipv4.isValid()) {
            hdr.nvgre.tun_ipv4.hdr_checksum = tun_ipv4_checksum.update({
                hdr.nvgre.tun_ipv4.version,
                hdr.nvgre.tun_ipv4.ihl,
                hdr.nvgre.tun_ipv4.dscp,
                hdr.nvgre.tun_ipv4.ecn,
                hdr.nvgre.tun_ipv4.total_len,
                hdr.nvgre.tun_ipv4.identification,
                hdr.nvgre.tun_ipv4.flags,
                hdr.nvgre.tun_ipv4.frag_offset,
                hdr.nvgre.tun_ipv4.ttl,
                hdr.nvgre.tun_ipv4.protocol,
                hdr.nvgre.tun_ipv4.src_addr,
                hdr.nvgre.tun_ipv4.dst_addr });
        }
        nvgre_deparser.apply(pkt, hdr.nvgre);
    }
}

#endif  // NVGRE_TNA_PIPELINE_P4
