// Parser: Ethernet, 802.1Q, ARP, IPv4 (with options), IPv6 (+ fragment header), ICMP,
// ICMPv6 (+ echo identifier, NS body and option), TCP, UDP, GRE with every flag and optional
// field, and the inner frame of NVGRE (Ethernet, 802.1Q, ARP, IPv4, IPv6, TCP, UDP).
//
// Malformed or truncated input ends in a parser error. Headers extracted before it stay
// valid and the rest is payload, so the frame deparses byte for byte as it came. What the
// error costs is decided in ingress.p4 (R4): a frame whose Ethernet header (and 802.1Q tag)
// did not parse is dropped as DropReason_t.PARSER_ERROR; past that, only the features that act on
// L3 need it (fabric side, tenant routing, ARP/ND responder, source guard on CAs), and a
// tenant frame is otherwise bridged and encapsulated unchanged.
// The parser decides nothing else: validity of GRE fields is checked, with a counter per
// reason, in tunnel_decap.p4.

#ifndef NVGRE_PARSER_P4
#define NVGRE_PARSER_P4

error {
    UnsupportedTag,   // 802.1ad / 0x9100 S-tag, or two stacked tags, on layer 1
    IPv4BadVersion,
    IPv4BadHeaderLength,
    IPv6BadVersion
}

parser NvgreParser(packet_in pkt, out headers_t hdr, in port_num_t ig_port) {

    state start {
        transition select(ig_port) {
            CPU_PORT: parse_packet_out;
            default:  parse_ethernet;
        }
    }

    state parse_packet_out {
        pkt.extract(hdr.packet_out);
        transition parse_ethernet;
    }

    // ---------------------------------------------------------------- layer 1
    state parse_ethernet {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_VLAN:        parse_vlan;
            ETHERTYPE_QINQ:        unsupported_tag;
            ETHERTYPE_QINQ_LEGACY: unsupported_tag;
            ETHERTYPE_ARP:         parse_arp;
            ETHERTYPE_IPV4:        parse_ipv4;
            ETHERTYPE_IPV6:        parse_ipv6;
            default:               accept;
        }
    }

    // One 802.1Q tag is classified (access) or ignored (fabric) and always stripped; a
    // second tag could not be stripped, so R5 could not hold for the frame: refuse it.
    state parse_vlan {
        pkt.extract(hdr.vlan);
        transition select(hdr.vlan.ether_type) {
            ETHERTYPE_VLAN:        unsupported_tag;
            ETHERTYPE_QINQ:        unsupported_tag;
            ETHERTYPE_QINQ_LEGACY: unsupported_tag;
            ETHERTYPE_ARP:         parse_arp;
            ETHERTYPE_IPV4:        parse_ipv4;
            ETHERTYPE_IPV6:        parse_ipv6;
            default:               accept;
        }
    }

    state unsupported_tag {
        verify(false, error.UnsupportedTag);
        transition accept;
    }

    state parse_arp {
        pkt.extract(hdr.arp);
        transition accept;
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        verify(hdr.ipv4.version == 4, error.IPv4BadVersion);
        verify(hdr.ipv4.ihl >= 5, error.IPv4BadHeaderLength);
        transition select(hdr.ipv4.ihl) {
            5:       parse_ipv4_payload;
            default: parse_ipv4_options;
        }
    }

    state parse_ipv4_options {
        pkt.extract(hdr.ipv4_options, ((bit<32>)hdr.ipv4.ihl - 5) << 5);
        transition parse_ipv4_payload;
    }

    // Only unfragmented packets (offset 0, MF 0) are parsed past IPv4: a fragment's
    // payload is not a header. NVGRE fragments are then dropped by tunnel_decap (R12).
    state parse_ipv4_payload {
        transition select(hdr.ipv4.frag_offset, hdr.ipv4.flags[0:0], hdr.ipv4.protocol) {
            (0, 0, IP_PROTO_ICMP): parse_icmp;
            (0, 0, IP_PROTO_TCP):  parse_tcp;
            (0, 0, IP_PROTO_UDP):  parse_udp;
            (0, 0, IP_PROTO_GRE):  parse_gre;
            default:               accept;
        }
    }

    state parse_ipv6 {
        pkt.extract(hdr.ipv6);
        verify(hdr.ipv6.version == 6, error.IPv6BadVersion);
        transition select(hdr.ipv6.next_hdr) {
            IP_PROTO_ICMPV6:    parse_icmpv6;
            IP_PROTO_TCP:       parse_tcp;
            IP_PROTO_UDP:       parse_udp;
            IP_PROTO_GRE:       parse_gre;
            IP_PROTO_IPV6_FRAG: parse_ipv6_frag;
            default:            accept;
        }
    }

    // An atomic fragment (offset 0, M 0) is a whole packet and is parsed on.
    state parse_ipv6_frag {
        pkt.extract(hdr.ipv6_frag);
        transition select(hdr.ipv6_frag.frag_offset, hdr.ipv6_frag.more, hdr.ipv6_frag.next_hdr) {
            (0, 0, IP_PROTO_TCP): parse_tcp;
            (0, 0, IP_PROTO_UDP): parse_udp;
            (0, 0, IP_PROTO_GRE): parse_gre;
            default:              accept;
        }
    }

    state parse_icmp {
        pkt.extract(hdr.icmp);
        transition select(hdr.icmp.type) {
            ICMP_ECHO_REQUEST: parse_icmp_echo;
            ICMP_ECHO_REPLY:   parse_icmp_echo;
            default:           accept;
        }
    }

    state parse_icmpv6 {
        pkt.extract(hdr.icmpv6);
        transition select(hdr.icmpv6.type) {
            ICMPV6_NEIGHBOR_SOLICITATION: parse_ndp;
            ICMPV6_ECHO_REQUEST:          parse_icmp_echo;
            ICMPV6_ECHO_REPLY:            parse_icmp_echo;
            default:                      accept;
        }
    }

    state parse_icmp_echo {
        pkt.extract(hdr.icmp_echo);
        transition accept;
    }

    state parse_ndp {
        pkt.extract(hdr.ndp);
        transition select(hdr.ipv6.payload_len) {
            ND_NS_WITH_SLL_LEN: parse_nd_option;
            default:            accept;
        }
    }

    state parse_nd_option {
        pkt.extract(hdr.nd_option);
        transition accept;
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.udp);
        transition accept;
    }

    // GRE: checksum + offset when C or R, key when K, sequence number when S, in that
    // order (RFC 1701 / 2890). Routing entries (R) are not parsed; such packets are
    // dropped as DropReason_t.GRE_FLAGS when addressed to a local PA.
    state parse_gre {
        pkt.extract(hdr.gre);
        transition select(hdr.gre.C, hdr.gre.R) {
            (0, 0):  parse_gre_key_opt;
            default: parse_gre_csum;
        }
    }

    state parse_gre_csum {
        pkt.extract(hdr.gre_csum);
        transition parse_gre_key_opt;
    }

    state parse_gre_key_opt {
        transition select(hdr.gre.K) {
            1:       parse_gre_key;
            default: parse_gre_seq_opt;
        }
    }

    state parse_gre_key {
        pkt.extract(hdr.gre_key);
        transition parse_gre_seq_opt;
    }

    state parse_gre_seq_opt {
        transition select(hdr.gre.S) {
            1:       parse_gre_seq;
            default: parse_gre_payload;
        }
    }

    state parse_gre_seq {
        pkt.extract(hdr.gre_seq);
        transition parse_gre_payload;
    }

    state parse_gre_payload {
        transition select(hdr.gre.R, hdr.gre.protocol) {
            (0, GRE_PROTO_TEB): parse_inner_ethernet;
            default:            accept;
        }
    }

    // ---------------------------------------------------------------- layer 2 (inner)
    state parse_inner_ethernet {
        pkt.extract(hdr.inner_ethernet);
        transition select(hdr.inner_ethernet.ether_type) {
            ETHERTYPE_VLAN:        parse_inner_vlan;
            ETHERTYPE_QINQ:        parse_inner_vlan;
            ETHERTYPE_QINQ_LEGACY: parse_inner_vlan;
            ETHERTYPE_ARP:         parse_inner_arp;
            ETHERTYPE_IPV4:        parse_inner_ipv4;
            ETHERTYPE_IPV6:        parse_inner_ipv6;
            default:               accept;
        }
    }

    // A tagged inner frame (802.1Q, 802.1ad or 0x9100) is dropped (R5); nothing behind the
    // tag is needed.
    state parse_inner_vlan {
        pkt.extract(hdr.inner_vlan);
        transition accept;
    }

    state parse_inner_arp {
        pkt.extract(hdr.inner_arp);
        transition accept;
    }

    // Inner IPv4 with options is not parsed past the fixed header: the options stay in
    // the payload right behind it, which keeps the decapsulated frame byte-exact.
    state parse_inner_ipv4 {
        pkt.extract(hdr.inner_ipv4);
        verify(hdr.inner_ipv4.version == 4, error.IPv4BadVersion);
        verify(hdr.inner_ipv4.ihl >= 5, error.IPv4BadHeaderLength);
        transition select(hdr.inner_ipv4.ihl, hdr.inner_ipv4.frag_offset,
                          hdr.inner_ipv4.flags[0:0], hdr.inner_ipv4.protocol) {
            (5, 0, 0, IP_PROTO_TCP): parse_inner_tcp;
            (5, 0, 0, IP_PROTO_UDP): parse_inner_udp;
            default:                 accept;
        }
    }

    state parse_inner_ipv6 {
        pkt.extract(hdr.inner_ipv6);
        verify(hdr.inner_ipv6.version == 6, error.IPv6BadVersion);
        transition select(hdr.inner_ipv6.next_hdr) {
            IP_PROTO_TCP: parse_inner_tcp;
            IP_PROTO_UDP: parse_inner_udp;
            default:      accept;
        }
    }

    state parse_inner_tcp {
        pkt.extract(hdr.inner_tcp);
        transition accept;
    }

    state parse_inner_udp {
        pkt.extract(hdr.inner_udp);
        transition accept;
    }
}

#endif  // NVGRE_PARSER_P4
