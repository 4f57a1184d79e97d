// Deparser: packet_in, then the encapsulation this switch adds, then layer 1, then the
// inner frame of a received NVGRE packet (transit). Only valid headers are emitted, and
// the unparsed rest of the packet follows. Checksums are computed by the arch's checksum
// control (p4/v1model/checksums.p4) before this runs.

#ifndef NVGRE_DEPARSER_P4
#define NVGRE_DEPARSER_P4

control NvgreDeparser(packet_out pkt, in headers_t hdr) {
    apply {
        pkt.emit(hdr.packet_in);

        pkt.emit(hdr.tun_ethernet);
        pkt.emit(hdr.tun_vlan);
        pkt.emit(hdr.tun_ipv4);
        pkt.emit(hdr.tun_ipv6);
        pkt.emit(hdr.tun_gre);
        pkt.emit(hdr.tun_gre_key);

        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.vlan);
        pkt.emit(hdr.arp);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.ipv4_options);
        pkt.emit(hdr.ipv6);
        pkt.emit(hdr.ipv6_frag);
        pkt.emit(hdr.icmp);
        pkt.emit(hdr.icmpv6);
        pkt.emit(hdr.icmp_echo);
        pkt.emit(hdr.ndp);
        pkt.emit(hdr.nd_option);
        pkt.emit(hdr.tcp);
        pkt.emit(hdr.udp);
        pkt.emit(hdr.gre);
        pkt.emit(hdr.gre_csum);
        pkt.emit(hdr.gre_key);
        pkt.emit(hdr.gre_seq);

        pkt.emit(hdr.inner_ethernet);
        pkt.emit(hdr.inner_vlan);
        pkt.emit(hdr.inner_arp);
        pkt.emit(hdr.inner_ipv4);
        pkt.emit(hdr.inner_ipv6);
        pkt.emit(hdr.inner_tcp);
        pkt.emit(hdr.inner_udp);
    }
}

#endif  // NVGRE_DEPARSER_P4
