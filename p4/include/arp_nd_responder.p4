// ARP / IPv6 ND responder (R16).
//
// An ARP request or Neighbor Solicitation for an address the controller put in
// arp_responder / nd_responder for the frame's VSID is turned into the reply in place and
// sent back out the ingress port, instead of being flooded. VSID 0 entries answer for the
// switch's own PAs on fabric ports. Not answered (so left to normal bridging): gratuitous
// ARP and ARP probes (sender 0.0.0.0), DAD solicitations (source ::), NS that fail RFC 4861
// validation (hop limit 255, code 0), and NS carrying options other than a single source
// link-layer address (their NA could not be built in place).
// The NA's ICMPv6 checksum is computed by the arch's checksum control (meta.nd_reply).

#ifndef NVGRE_ARP_ND_RESPONDER_P4
#define NVGRE_ARP_ND_RESPONDER_P4

control ArpNdResponder(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".arp_reply")
    action arp_reply(mac_addr_t mac) {
        ipv4_addr_t target = hdr.arp.tpa;
        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.sha = mac;
        hdr.arp.spa = target;
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = mac;
    }

    @name(".arp_responder")
    table arp_responder {
        key = {
            meta.vsid:    exact @name("vsid");
            hdr.arp.tpa:  exact @name("ip");
        }
        actions = {
            arp_reply;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = ARP_ND_TABLE_SIZE;
    }

    // router = 1 for the switch's own PAs and tenant gateway addresses.
    @name(".nd_advertise")
    action nd_advertise(mac_addr_t mac, bit<1> router) {
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = mac;
        hdr.ipv6.traffic_class = 0;
        hdr.ipv6.flow_label = 0;
        hdr.ipv6.payload_len = ND_NA_LEN;
        hdr.ipv6.hop_limit = 255;
        hdr.ipv6.dst_addr = hdr.ipv6.src_addr;
        hdr.ipv6.src_addr = hdr.ndp.target;
        hdr.icmpv6.type = ICMPV6_NEIGHBOR_ADVERTISEMENT;
        hdr.icmpv6.code = 0;
        hdr.icmpv6.checksum = 0;
        // R = router, S = 1 (solicited), O = 1 (override), reserved 0.
        hdr.ndp.flags = router ++ 1w1 ++ 1w1 ++ 29w0;
        hdr.nd_option.setValid();
        hdr.nd_option.type = ND_OPT_TARGET_LLADDR;
        hdr.nd_option.len = 1;
        hdr.nd_option.lladdr = mac;
        meta.nd_reply = 1;
    }

    @name(".nd_responder")
    table nd_responder {
        key = {
            meta.vsid:       exact @name("vsid");
            hdr.ndp.target:  exact @name("ip");
        }
        actions = {
            nd_advertise;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = ARP_ND_TABLE_SIZE;
    }

    apply {
        bool answered = false;
        if (hdr.arp.isValid()) {
            if (hdr.arp.htype == ARP_HTYPE_ETHERNET && hdr.arp.ptype == ETHERTYPE_IPV4 &&
                hdr.arp.hlen == 6 && hdr.arp.plen == 4 &&
                hdr.arp.oper == ARP_OPER_REQUEST &&
                hdr.arp.spa != 0 && hdr.arp.spa != hdr.arp.tpa) {
                answered = arp_responder.apply().hit;
            }
        } else if (hdr.ndp.isValid() && hdr.icmpv6.isValid()) {
            // A plain NS, or one with exactly a source link-layer address option. Set under an
            // if: Tofino cannot assign a comparison's result.
            bool ns_shape_ok = false;
            if (hdr.ipv6.payload_len == ND_NS_LEN && !hdr.nd_option.isValid()) {
                ns_shape_ok = true;
            } else if (hdr.ipv6.payload_len == ND_NS_WITH_SLL_LEN && hdr.nd_option.isValid() &&
                       hdr.nd_option.type == ND_OPT_SOURCE_LLADDR && hdr.nd_option.len == 1) {
                ns_shape_ok = true;
            }
            // The 128-bit test nested on its own: bf-p4c splits it into four 32-bit ORs and
            // expanding the whole conjunction to a gateway's DNF overflows its stack.
            if (hdr.icmpv6.code == 0 && hdr.ipv6.hop_limit == 255 && ns_shape_ok) {
                if (hdr.ipv6.src_addr != 0) {
                    answered = nd_responder.apply().hit;
                }
            }
        }

        if (answered) {
            meta.out_port = meta.ig_port;
            if (meta.port_type == PortType_t.FABRIC) {
                meta.kind = ForwardKind_t.UNDERLAY;
            } else {
                meta.kind = ForwardKind_t.TENANT_LOCAL;
            }
        } else if (meta.port_type == PortType_t.FABRIC) {
            // Fabric ARP / NS not for one of our PAs.
            meta.to_drop = 1;
            meta.drop_reason = DropReason_t.TO_SELF_UNHANDLED;
        }
    }
}

#endif  // NVGRE_ARP_ND_RESPONDER_P4
