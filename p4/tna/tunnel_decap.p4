// Fabric side: tunnel termination (is this for me?), NVGRE validation and decap, TNA:
// include/tunnel_decap.p4 without what needs the frame length, which Tofino ingress does not
// know (no packet length before the traffic manager):
//   - the RFC 1812 check that the frame holds exactly the IP packet (DropReason_t.IP_LENGTH) keeps
//     only its frame-independent part: an IPv4 total length below the header's;
//   - decap does not track the inner frame's length (egress measures lengths, see
//     pipeline.p4), which also keeps every action to one operation per field.
//
// TunnelTermination: ARP requests and Neighbor Solicitations are handed to the responder
// (answered for own PAs, VSID 0 entries). Anything else must be sent to a router MAC
// (my_mac, ternary so the controller can also admit the IPv4/IPv6 multicast MAC ranges
// of PA multicast groups, R10) and, if IP, carry a correct IPv4 checksum and an IP length
// that agrees with the frame. IP to a local PA: GRE -> validate + decap; ICMP/ICMPv6
// (ping, PMTUD) -> punt; else drop. IP to another address: transit (underlay_routing.p4).
//
// TunnelDecap: only for a local PA. Each failure is one drop reason with its own counter
// (R1, R5, R6, R12); then the inner frame is copied over layer 1 and the outer headers are
// removed. The VSID lookup, PA validation (R17) and bridging follow in later controls.

#ifndef NVGRE_TNA_TUNNEL_DECAP_P4
#define NVGRE_TNA_TUNNEL_DECAP_P4

control TunnelTermination(inout headers_t hdr, inout local_metadata_t meta) {

    @hidden
    action punt(PuntReason_t reason) {
        meta.punt = 1;
        meta.punt_reason = reason;
    }

    @name(".set_my_mac")
    action set_my_mac() { }

    @name(".my_mac")
    table my_mac {
        key = {
            hdr.ethernet.dst_addr: ternary @name("dst_mac");
        }
        actions = {
            set_my_mac;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = MY_MAC_TABLE_SIZE;
    }

    @name(".set_local_pa")
    action set_local_pa() { }

    // The switch's PAs (R8: several allowed), plus the PA multicast groups of VSIDs that
    // have local members (R10).
    @name(".local_pa_v4")
    table local_pa_v4 {
        key = {
            hdr.ipv4.dst_addr: exact @name("pa");
        }
        actions = {
            set_local_pa;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = LOCAL_PA_TABLE_SIZE;
    }

    @name(".local_pa_v6")
    table local_pa_v6 {
        key = {
            hdr.ipv6.dst_addr: exact @name("pa");
        }
        actions = {
            set_local_pa;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = LOCAL_PA_TABLE_SIZE;
    }

    apply {
        // Layer-1 IPv4 here has no options (parser.p4), so its header is 20 bytes. Tofino
        // cannot assign a comparison's result: booleans are set under an if.
        bool bad_length = false;
        if (hdr.ipv4.isValid() && hdr.ipv4.total_len < IPV4_MIN_HDR_BYTES) {
            bad_length = true;
        }

        if (hdr.arp.isValid()) {
            if (hdr.arp.oper == ARP_OPER_REQUEST) {
                meta.fabric_action = FabricAction_t.RESPOND;
            } else {
                set_drop(meta, DropReason_t.TO_SELF_UNHANDLED);
            }
        } else if (hdr.ndp.isValid()) {
            meta.fabric_action = FabricAction_t.RESPOND;
        } else if (!my_mac.apply().hit) {
            set_drop(meta, DropReason_t.NOT_MY_MAC);
        } else if (hdr.ipv4.isValid()) {
            if (meta.ipv4_checksum_error == 1) {
                set_drop(meta, DropReason_t.IPV4_CHECKSUM);
            } else if (bad_length) {
                set_drop(meta, DropReason_t.IP_LENGTH);
            } else if (local_pa_v4.apply().hit) {
                if (hdr.ipv4.protocol == IP_PROTO_GRE) {
                    meta.fabric_action = FabricAction_t.DECAP;
                } else if (hdr.icmp.isValid()) {
                    punt(PuntReason_t.ICMP_TO_SELF);
                } else {
                    set_drop(meta, DropReason_t.TO_SELF_UNHANDLED);
                }
            } else {
                meta.fabric_action = FabricAction_t.TRANSIT;
            }
        } else if (hdr.ipv6.isValid()) {
            // No frame-independent IPv6 length check exists (payload_len is all there is).
            if (local_pa_v6.apply().hit) {
                if (hdr.ipv6.next_hdr == IP_PROTO_GRE ||
                    (hdr.ipv6_frag.isValid() && hdr.ipv6_frag.next_hdr == IP_PROTO_GRE)) {
                    meta.fabric_action = FabricAction_t.DECAP;
                } else if (hdr.icmpv6.isValid()) {
                    punt(PuntReason_t.ICMP_TO_SELF);
                } else {
                    set_drop(meta, DropReason_t.TO_SELF_UNHANDLED);
                }
            } else {
                meta.fabric_action = FabricAction_t.TRANSIT;
            }
        } else {
            set_drop(meta, DropReason_t.TO_SELF_UNHANDLED);
        }
    }
}

control TunnelDecap(inout headers_t hdr, inout local_metadata_t meta) {

    // VSID 0xFFFFFF is vendor-specific NVE-to-NVE traffic (R6): never bridged; counted,
    // and handed to the controller as received when switch_config asks for it.
    @hidden
    action vendor_vsid() {
        meta.drop_reason = DropReason_t.VSID_FFFFFF;
        meta.punt = 1;
        meta.punt_reason = PuntReason_t.VSID_FFFFFF;
    }

    @hidden
    action save_outer_source() {
        meta.vsid = hdr.gre_key.vsid;
        meta.from_fabric = 1;
    }

    @hidden
    action save_outer_source_v4() {
        save_outer_source();
        meta.outer_is_v6 = 0;
        meta.outer_src_v4 = hdr.ipv4.src_addr;
    }

    @hidden
    action save_outer_source_v6() {
        save_outer_source();
        meta.outer_is_v6 = 1;
        meta.outer_src_v6 = hdr.ipv6.src_addr;
    }

    // The inner frame becomes layer 1; every layer-1 header the inner layer has no copy
    // of is removed, so nothing of the outer packet is left in front of the tenant frame.
    @hidden
    action decap() {
        hdr.ethernet = hdr.inner_ethernet;
        hdr.vlan.setInvalid();
        hdr.arp = hdr.inner_arp;
        hdr.ipv4 = hdr.inner_ipv4;
        hdr.ipv4_options.setInvalid();
        hdr.ipv6 = hdr.inner_ipv6;
        hdr.ipv6_frag.setInvalid();
        hdr.icmp.setInvalid();
        hdr.icmpv6.setInvalid();
        hdr.icmp_echo.setInvalid();
        hdr.ndp.setInvalid();
        hdr.nd_option.setInvalid();
        hdr.tcp = hdr.inner_tcp;
        hdr.udp = hdr.inner_udp;
        hdr.gre.setInvalid();
        hdr.gre_csum.setInvalid();
        hdr.gre_key.setInvalid();
        hdr.gre_seq.setInvalid();
        hdr.inner_ethernet.setInvalid();
        hdr.inner_vlan.setInvalid();
        hdr.inner_arp.setInvalid();
        hdr.inner_ipv4.setInvalid();
        hdr.inner_ipv6.setInvalid();
        hdr.inner_tcp.setInvalid();
        hdr.inner_udp.setInvalid();
    }

    apply {
        bool fragment = false;
        if (hdr.ipv4.isValid()) {
            if (hdr.ipv4.frag_offset != 0 || hdr.ipv4.flags[0:0] == 1) {
                fragment = true;
            }
        } else if (hdr.ipv6_frag.isValid()) {
            if (hdr.ipv6_frag.frag_offset != 0 || hdr.ipv6_frag.more == 1) {
                fragment = true;
            }
        }

        if (fragment) {
            set_drop(meta, DropReason_t.OUTER_FRAGMENT);
        } else if (!hdr.gre.isValid()) {
            set_drop(meta, DropReason_t.TO_SELF_UNHANDLED);
        } else if (hdr.gre.C == 1 || hdr.gre.R == 1 || hdr.gre.S == 1 ||
                   hdr.gre.s == 1 || hdr.gre.recur[2:2] == 1) {
            // RFC 7637: C and S must be 0. RFC 2784: discard when any of bits 1-5 is set,
            // K (bit 2) and S (bit 3) being redefined by RFC 2890; that leaves R, s and the
            // top recursion bit. Bits 6-12 (rest of recur, A, flags) are ignored.
            set_drop(meta, DropReason_t.GRE_FLAGS);
        } else if (hdr.gre.version != 0) {
            set_drop(meta, DropReason_t.GRE_VERSION);
        } else if (hdr.gre.K == 0) {
            set_drop(meta, DropReason_t.GRE_NO_KEY);
        } else if (hdr.gre.protocol != GRE_PROTO_TEB) {
            set_drop(meta, DropReason_t.GRE_PROTOCOL);
        } else if (hdr.gre_key.vsid == VSID_VENDOR) {
            if (meta.punt_vsid_ffffff == 1) {
                vendor_vsid();
            } else {
                set_drop(meta, DropReason_t.VSID_FFFFFF);
            }
        } else if (hdr.gre_key.vsid <= VSID_RESERVED_MAX) {
            set_drop(meta, DropReason_t.VSID_RESERVED);
        } else if (hdr.inner_vlan.isValid()) {
            set_drop(meta, DropReason_t.INNER_VLAN);
        } else if (!hdr.inner_ethernet.isValid()) {
            set_drop(meta, DropReason_t.TO_SELF_UNHANDLED);
        } else {
            if (hdr.ipv4.isValid()) {
                save_outer_source_v4();
            } else {
                save_outer_source_v6();
            }
            decap();
        }
    }
}

#endif  // NVGRE_TNA_TUNNEL_DECAP_P4
