// MTU check (R12), egress.
//
// port_mtu gives the IP MTU of an egress port (no entry: no limit). An encapsulated frame,
// or a routed underlay packet, whose outermost IP packet is longer than that is never
// fragmented: it is dropped (DropReason_t.MTU_EXCEEDED) and punted to the controller
// (PuntReason_t.MTU_EXCEEDED, packet_in.mtu = the port MTU) so it can send ICMP "fragmentation
// needed" / ICMPv6 "packet too big" toward the source (PMTUD). The arch glue makes the
// punted copy (v1model: egress clone to CPU_CLONE_SESSION_ID). The punted frame is the
// one that would have left, outer headers included, so the controller reads the VSID from
// its GRE key and the tenant packet behind it.

#ifndef NVGRE_MTU_P4
#define NVGRE_MTU_P4

control MtuCheck(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".set_port_mtu")
    action set_port_mtu(bit<16> mtu) {
        meta.port_mtu = mtu;
    }

    @name(".port_mtu")
    table port_mtu {
        key = {
            meta.eg_port: exact @name("port");
        }
        actions = {
            set_port_mtu;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    apply {
        bit<16> ip_len = 0;
        if (hdr.tun_ipv4.isValid()) {
            ip_len = hdr.tun_ipv4.total_len;
        } else if (hdr.tun_ipv6.isValid()) {
            ip_len = hdr.tun_ipv6.payload_len + IPV6_HDR_BYTES;
        } else if (meta.kind == ForwardKind_t.UNDERLAY || meta.kind == ForwardKind_t.UNDERLAY_MCAST) {
            if (hdr.ipv4.isValid()) {
                ip_len = hdr.ipv4.total_len;
            } else if (hdr.ipv6.isValid()) {
                ip_len = hdr.ipv6.payload_len + IPV6_HDR_BYTES;
            }
        }
        if (ip_len != 0) {
            if (port_mtu.apply().hit) {
                if (ip_len > meta.port_mtu) {
                    meta.to_drop = 1;
                    meta.drop_reason = DropReason_t.MTU_EXCEEDED;
                    meta.punt = 1;
                    meta.punt_reason = PuntReason_t.MTU_EXCEEDED;
                }
            }
        }
    }
}

#endif  // NVGRE_MTU_P4
