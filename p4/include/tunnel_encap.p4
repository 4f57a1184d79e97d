// NVGRE encapsulation (R1-R4, R7, R8, R11, R13).
//
// TunnelEncap (ingress): for a frame bridged to a remote NVE, nve gives the NVE's PA (IPv4
// or IPv6) and src_pa the source PAs (one IPv4 and one IPv6, 0 = none) chosen per VSID
// and/or per destination NVE (R8: ternary on (VSID, nve_id); per-VSID entries wildcard
// nve_id, per-destination entries set it, and priorities order them). Floods look src_pa
// up with nve_id 0 so their tunnel replicas, built in egress, have a source PA.
// TunnelEncapHeaders builds the encapsulation in the tun_* headers in front of the
// tenant frame (layer 1), which by now carries no 802.1Q tag (R5). Any CA family goes in
// any PA family (R13). The outer MACs are written by underlay routing (unicast) or by the
// replica entry (floods); the outer IPv4 checksum by the arch's checksum control.

#ifndef NVGRE_TUNNEL_ENCAP_P4
#define NVGRE_TUNNEL_ENCAP_P4

control TunnelEncapHeaders(inout headers_t hdr, inout local_metadata_t meta) {

    @hidden
    action encap_common() {
        hdr.tun_ethernet.setValid();
        hdr.tun_ethernet.dst_addr = 0;
        hdr.tun_ethernet.src_addr = 0;
        // GRE: first 4 bytes exactly 20 00 65 58 (R1); no checksum, no sequence number.
        hdr.tun_gre.setValid();
        hdr.tun_gre.C = 0;
        hdr.tun_gre.R = 0;
        hdr.tun_gre.K = 1;
        hdr.tun_gre.S = 0;
        hdr.tun_gre.s = 0;
        hdr.tun_gre.recur = 0;
        hdr.tun_gre.A = 0;
        hdr.tun_gre.flags = 0;
        hdr.tun_gre.version = 0;
        hdr.tun_gre.protocol = GRE_PROTO_TEB;
        // Key = VSID << 8 | FlowID (R2, R3).
        hdr.tun_gre_key.setValid();
        hdr.tun_gre_key.vsid = meta.vsid;
        hdr.tun_gre_key.flow_id = meta.flow_id;
    }

    @hidden
    action encap_ipv4() {
        encap_common();
        hdr.tun_ethernet.ether_type = ETHERTYPE_IPV4;
        hdr.tun_ipv4.setValid();
        hdr.tun_ipv4.version = 4;
        hdr.tun_ipv4.ihl = 5;
        hdr.tun_ipv4.dscp = 0;
        hdr.tun_ipv4.ecn = 0;
        hdr.tun_ipv4.total_len = meta.frame_len + IPV4_MIN_HDR_BYTES + GRE_KEYED_HDR_BYTES;
        hdr.tun_ipv4.identification = 0;
        hdr.tun_ipv4.flags = 3w0b010;          // DF: NVGRE is never fragmented (R12)
        hdr.tun_ipv4.frag_offset = 0;
        hdr.tun_ipv4.ttl = meta.encap_ttl;
        hdr.tun_ipv4.protocol = IP_PROTO_GRE;
        hdr.tun_ipv4.hdr_checksum = 0;
        hdr.tun_ipv4.src_addr = meta.src_pa_v4;
        hdr.tun_ipv4.dst_addr = meta.nve_pa_v4;
    }

    @hidden
    action encap_ipv6() {
        encap_common();
        hdr.tun_ethernet.ether_type = ETHERTYPE_IPV6;
        hdr.tun_ipv6.setValid();
        hdr.tun_ipv6.version = 6;
        hdr.tun_ipv6.traffic_class = 0;
        hdr.tun_ipv6.flow_label = meta.flow_label;
        hdr.tun_ipv6.payload_len = meta.frame_len + GRE_KEYED_HDR_BYTES;
        hdr.tun_ipv6.next_hdr = IP_PROTO_GRE;
        hdr.tun_ipv6.hop_limit = meta.encap_ttl;
        hdr.tun_ipv6.src_addr = meta.src_pa_v6;
        hdr.tun_ipv6.dst_addr = meta.nve_pa_v6;
    }

    apply {
        if (meta.nve_is_v6 == 0) {
            if (meta.src_pa_v4 == 0) {
                meta.to_drop = 1;
                meta.drop_reason = DropReason_t.SRC_PA_MISS;
            } else {
                encap_ipv4();
            }
        } else {
            if (meta.src_pa_v6 == 0) {
                meta.to_drop = 1;
                meta.drop_reason = DropReason_t.SRC_PA_MISS;
            } else {
                encap_ipv6();
            }
        }
    }
}

control TunnelEncap(inout headers_t hdr, inout local_metadata_t meta) {

    TunnelEncapHeaders() encap_headers;

    @name(".set_nve_v4")
    action set_nve_v4(ipv4_addr_t pa) {
        meta.nve_is_v6 = 0;
        meta.nve_pa_v4 = pa;
    }

    @name(".set_nve_v6")
    action set_nve_v6(ipv6_addr_t pa) {
        meta.nve_is_v6 = 1;
        meta.nve_pa_v6 = pa;
    }

    @name(".nve")
    table nve {
        key = {
            meta.nve_id: exact @name("nve_id");
        }
        actions = {
            set_nve_v4;
            set_nve_v6;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = NVE_TABLE_SIZE;
    }

    @name(".set_src_pa")
    action set_src_pa(ipv4_addr_t pa_v4, ipv6_addr_t pa_v6) {
        meta.src_pa_v4 = pa_v4;
        meta.src_pa_v6 = pa_v6;
    }

    @name(".src_pa")
    table src_pa {
        key = {
            meta.vsid:   ternary @name("vsid");
            meta.nve_id: ternary @name("nve_id");
        }
        actions = {
            set_src_pa;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = SRC_PA_TABLE_SIZE;
    }

    apply {
        src_pa.apply();
        if (meta.kind == ForwardKind_t.ENCAP) {
            if (!nve.apply().hit) {
                meta.to_drop = 1;
                meta.drop_reason = DropReason_t.NVE_UNKNOWN;
            } else {
                encap_headers.apply(hdr, meta);
            }
        }
    }
}

#endif  // NVGRE_TUNNEL_ENCAP_P4
