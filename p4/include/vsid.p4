// VSID classification of a tenant frame (access frame, or decapsulated inner frame).
//
// The vsid table gives the VSID's attributes: the controller-assigned vsid_index (the
// index of the per-VSID counters, R15), the tenant routing domain and gateway MAC (R14),
// and the learning / source guard / PA validation switches (R17). A VSID that is not in
// the table is not served here: drop (DropReason_t.VSID_UNKNOWN), whichever side it came from.
// Then the tenant frame's addresses are gathered for the source guard and the flow hash
// (TCP / UDP ports, or the ICMP / ICMPv6 echo identifier as the source port). A frame whose
// L3 did not parse gets CA family CaFamily_t.UNPARSED, which no source guard entry of a CA family
// admits (R4, R17).

#ifndef NVGRE_VSID_P4
#define NVGRE_VSID_P4

control VsidClassification(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".set_vsid")
    action set_vsid(vsid_index_t vsid_index, vrf_id_t vrf_id, mac_addr_t gw_mac,
                    bit<1> learn_local, bit<1> learn_remote,
                    bit<1> source_guard, bit<1> pa_check) {
        meta.vsid_index = vsid_index;
        meta.vrf_id = vrf_id;
        meta.gw_mac = gw_mac;             // 0 = no tenant routing in this VSID
        meta.learn_local = learn_local;   // digest unknown sources on access ports
        meta.learn_remote = learn_remote; // digest unknown sources behind remote NVEs
        meta.guard_on = source_guard;
        meta.pa_check_on = pa_check;
    }

    @name(".vsid")
    table vsid_table {
        key = {
            meta.vsid: exact @name("vsid");
        }
        actions = {
            set_vsid;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = VSID_TABLE_SIZE;
    }

    apply {
        if (!vsid_table.apply().hit) {
            meta.to_drop = 1;
            meta.drop_reason = DropReason_t.VSID_UNKNOWN;
        } else if (meta.l3_unparsed == 1) {
            // Its L3 header could not be read: no CA, nothing for the flow hash (R4).
            meta.ca_family = CaFamily_t.UNPARSED;
        } else {
            if (hdr.ipv4.isValid()) {
                meta.ca_family = CaFamily_t.IPV4;
                meta.ca_src = (bit<128>)hdr.ipv4.src_addr;
                meta.ca_dst = (bit<128>)hdr.ipv4.dst_addr;
                meta.l4_proto = hdr.ipv4.protocol;
            } else if (hdr.ipv6.isValid()) {
                meta.ca_family = CaFamily_t.IPV6;
                meta.ca_src = hdr.ipv6.src_addr;
                meta.ca_dst = hdr.ipv6.dst_addr;
                meta.l4_proto = hdr.ipv6.next_hdr;
            } else if (hdr.arp.isValid()) {
                // ARP's sender address is the CA the source guard checks (R17).
                meta.ca_family = CaFamily_t.IPV4;
                meta.ca_src = (bit<128>)hdr.arp.spa;
                meta.ca_dst = (bit<128>)hdr.arp.tpa;
            }
            if (hdr.tcp.isValid()) {
                meta.l4_sport = hdr.tcp.src_port;
                meta.l4_dport = hdr.tcp.dst_port;
            } else if (hdr.udp.isValid()) {
                meta.l4_sport = hdr.udp.src_port;
                meta.l4_dport = hdr.udp.dst_port;
            } else if (hdr.icmp_echo.isValid()) {
                // A ping session's identifier is its port (R3); the sequence number is not
                // (it changes per packet, and one session keeps one FlowID).
                meta.l4_sport = hdr.icmp_echo.identifier;
            }
        }
    }
}

#endif  // NVGRE_VSID_P4
