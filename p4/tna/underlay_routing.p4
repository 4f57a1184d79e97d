// Underlay routing + ECMP (R7, R9, R11, R3), TNA: include/underlay_routing.p4 with
//   - the ECMP selector as TNA's ActionSelector over a CRC-32 Hash of the same selector key
//     (outer source, destination, protocol, the whole 32-bit GRE key / ports: R9);
//   - transit IPv4 TTL decremented without the in-action incremental checksum (Tofino cannot
//     chain that arithmetic in one action): the ingress deparser recomputes the header
//     checksum (layer-1 IPv4 never carries options here, see parser.p4).
//
// Applies to packets this switch just encapsulated (tun_* headers) and to IP transit on
// fabric ports (layer 1), e.g. NVGRE between other NVEs on a spine. LPM on the outermost
// destination address (route_v4 / route_v6) gives a next hop (port, source and
// destination MAC), an ECMP group, or, for transit only, an underlay multicast group
// (PA multicast groups of R10). ECMP goes through the ecmp_selector action selector,
// whose key is the ecmp_fields_t in metadata, always fully written here:
//   NVGRE / keyed GRE: outer source, destination, protocol 47 and the entire 32-bit key
//                      (R9), ports 0
//   other IP:          5-tuple, key 0
// Transit packets get their TTL / hop limit decremented (expired: dropped and counted)
// and nothing else changed: the GRE key, and so the FlowID, stays untouched (R3).

#ifndef NVGRE_TNA_UNDERLAY_ROUTING_P4
#define NVGRE_TNA_UNDERLAY_ROUTING_P4

control UnderlayRouting(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".set_next_hop")
    action set_next_hop(port_num_t port, mac_addr_t smac, mac_addr_t dmac) {
        meta.out_port = port;
        meta.nh_smac = smac;
        meta.nh_dmac = dmac;
    }

    @name(".set_ecmp_group")
    action set_ecmp_group(ecmp_group_t group_id) {
        meta.use_ecmp = 1;
        meta.ecmp_group = group_id;
    }

    // A multicast router sends its copies from its own MAC (smac), like unicast next hops,
    // so switches downstream never see the upstream router's MAC on this link; the
    // destination (group) MAC stays.
    @name(".set_underlay_mcast")
    action set_underlay_mcast(mcast_group_t group, mac_addr_t smac) {
        meta.ul_mcast = 1;
        meta.mcast_grp = group;
        meta.nh_smac = smac;
    }

    @name(".route_v4")
    table route_v4 {
        key = {
            meta.ul_dst_v4: lpm @name("dst_pa");
        }
        actions = {
            set_next_hop;
            set_ecmp_group;
            set_underlay_mcast;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = UNDERLAY_ROUTE_TABLE_SIZE;
    }

    @name(".route_v6")
    table route_v6 {
        key = {
            meta.ul_dst_v6: lpm @name("dst_pa");
        }
        actions = {
            set_next_hop;
            set_ecmp_group;
            set_underlay_mcast;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = UNDERLAY_ROUTE_TABLE_SIZE;
    }

    // CRC-32, not CRC-16, for the reason p4/v1model/arch.p4 gives; 16 bits of it select.
    Hash<bit<16>>(HashAlgorithm_t.CRC32) ecmp_hash;

    // P4Runtime sees one action profile with a selector, named after the action profile
    // (bf-p4c --p4runtime-force-std-externs).
    @name(".ecmp_selector")
    ActionProfile(ECMP_SELECTOR_SIZE) ecmp_members;

    @name(".ecmp_group_selector")
    ActionSelector(ecmp_members, ecmp_hash, SelectorMode_t.FAIR, ECMP_MAX_GROUP_SIZE,
                   ECMP_GROUP_TABLE_SIZE) ecmp_selector;

    @name(".ecmp")
    table ecmp {
        key = {
            meta.ecmp_group:   exact @name("group_id");
            meta.ecmp.src:     selector;
            meta.ecmp.dst:     selector;
            meta.ecmp.proto:   selector;
            meta.ecmp.gre_key: selector;
            meta.ecmp.sport:   selector;
            meta.ecmp.dport:   selector;
        }
        actions = {
            set_next_hop;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        implementation = ecmp_selector;
        size = ECMP_GROUP_TABLE_SIZE;
    }

    @hidden
    action ipv4_ttl_decrement() {
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }

    apply {
        bool is_v6 = false;
        bool transit = false;

        meta.ecmp.sport = 0;
        meta.ecmp.dport = 0;
        meta.ecmp.gre_key = 0;
        if (hdr.tun_ipv4.isValid()) {
            meta.ul_dst_v4 = hdr.tun_ipv4.dst_addr;
            meta.ecmp.src = (bit<128>)hdr.tun_ipv4.src_addr;
            meta.ecmp.dst = (bit<128>)hdr.tun_ipv4.dst_addr;
            meta.ecmp.proto = IP_PROTO_GRE;
            meta.ecmp.gre_key = hdr.tun_gre_key.vsid ++ hdr.tun_gre_key.flow_id;
        } else if (hdr.tun_ipv6.isValid()) {
            is_v6 = true;
            meta.ul_dst_v6 = hdr.tun_ipv6.dst_addr;
            meta.ecmp.src = hdr.tun_ipv6.src_addr;
            meta.ecmp.dst = hdr.tun_ipv6.dst_addr;
            meta.ecmp.proto = IP_PROTO_GRE;
            meta.ecmp.gre_key = hdr.tun_gre_key.vsid ++ hdr.tun_gre_key.flow_id;
        } else if (hdr.ipv4.isValid()) {
            transit = true;
            if (hdr.ipv4.ttl <= 1) {
                set_drop(meta, DropReason_t.UNDERLAY_TTL_EXPIRED);
            }
            meta.ul_dst_v4 = hdr.ipv4.dst_addr;
            meta.ecmp.src = (bit<128>)hdr.ipv4.src_addr;
            meta.ecmp.dst = (bit<128>)hdr.ipv4.dst_addr;
            meta.ecmp.proto = hdr.ipv4.protocol;
        } else if (hdr.ipv6.isValid()) {
            is_v6 = true;
            transit = true;
            if (hdr.ipv6.hop_limit <= 1) {
                set_drop(meta, DropReason_t.UNDERLAY_TTL_EXPIRED);
            }
            meta.ul_dst_v6 = hdr.ipv6.dst_addr;
            meta.ecmp.src = hdr.ipv6.src_addr;
            meta.ecmp.dst = hdr.ipv6.dst_addr;
            meta.ecmp.proto = hdr.ipv6.next_hdr;
        } else {
            set_drop(meta, DropReason_t.UNDERLAY_ROUTE_MISS);
        }
        if (transit) {
            if (hdr.gre_key.isValid()) {
                meta.ecmp.gre_key = hdr.gre_key.vsid ++ hdr.gre_key.flow_id;
            } else if (hdr.tcp.isValid()) {
                meta.ecmp.sport = hdr.tcp.src_port;
                meta.ecmp.dport = hdr.tcp.dst_port;
            } else if (hdr.udp.isValid()) {
                meta.ecmp.sport = hdr.udp.src_port;
                meta.ecmp.dport = hdr.udp.dst_port;
            } else if (hdr.icmp_echo.isValid()) {
                // A ping session's identifier, as in the FlowID (vsid.p4).
                meta.ecmp.sport = hdr.icmp_echo.identifier;
            }
        }

        if (meta.to_drop == 0) {
            bool route_hit = false;
            if (is_v6) {
                route_hit = route_v6.apply().hit;
            } else {
                route_hit = route_v4.apply().hit;
            }
            if (!route_hit) {
                set_drop(meta, DropReason_t.UNDERLAY_ROUTE_MISS);
            } else if (meta.ul_mcast == 1 && !transit) {
                // Tunnel copies to a PA multicast group are made in egress (flood_replica).
                set_drop(meta, DropReason_t.UNDERLAY_ROUTE_MISS);
            } else if (meta.use_ecmp == 1) {
                if (!ecmp.apply().hit) {
                    set_drop(meta, DropReason_t.UNDERLAY_ROUTE_MISS);
                }
            }
        }

        if (meta.to_drop == 0) {
            if (transit) {
                if (is_v6) {
                    hdr.ipv6.hop_limit = hdr.ipv6.hop_limit - 1;
                } else {
                    ipv4_ttl_decrement();
                }
            }
            if (meta.ul_mcast == 1) {
                meta.kind = ForwardKind_t.UNDERLAY_MCAST;
                hdr.ethernet.src_addr = meta.nh_smac;
            } else {
                if (hdr.tun_ethernet.isValid()) {
                    hdr.tun_ethernet.src_addr = meta.nh_smac;
                    hdr.tun_ethernet.dst_addr = meta.nh_dmac;
                } else {
                    hdr.ethernet.src_addr = meta.nh_smac;
                    hdr.ethernet.dst_addr = meta.nh_dmac;
                    meta.kind = ForwardKind_t.UNDERLAY;
                }
            }
        }
    }
}

#endif  // NVGRE_TNA_UNDERLAY_ROUTING_P4
