// TNA parsers.
//
// Ingress: the same graph as include/parser.p4 (which TNA cannot use as it is: it extracts
// IPv4 options as a varbit and rejects with verify()), with these differences:
//   - intrinsic metadata and the port metadata come first; packet_out only on CPU_PORT;
//   - what v1model rejects with verify() sets parse_bad_tag (second / S-tags) or parse_bad
//     (IPv4 version or IHL, IPv6 version, inner IPv4 / IPv6 version), which the glue hands to
//     the shared ingress as v1model's parser error: a tag is dropped as DropReason_t.PARSER_ERROR, a
//     malformed L3 header only where the switch acts on L3 (R4, include/ingress.p4);
//   - layer-1 IPv4 options (IHL > 5) are not parsed (ipv4_options = 1): such frames are
//     bridged, but dropped on the fabric side and when routed (v1model transits, decapsulates
//     and routes them; see README);
//   - the layer-1 IPv4 header checksum is verified by the parser's Checksum unit.
// Truncated packets end in a hardware parser error (ig_intr_md_from_prsr.parser_err), handed
// to the shared ingress like v1model's (not run on Tofino: that the headers extracted before
// the error stay valid and the rest leaves as payload, as in bmv2, is to check; see README).
//
// Egress: re-parses only what egress changes or measures: the bridged metadata (or the MTU
// punt mirror header), then either the encapsulation ingress built (tun_*) or the layer-1
// Ethernet header (+ IP header of underlay packets). Everything behind stays payload and
// leaves as it came.

#ifndef NVGRE_TNA_PARSER_P4
#define NVGRE_TNA_PARSER_P4

parser TnaIngressParser(packet_in pkt,
                        out ingress_headers_t hdr,
                        out ingress_metadata_t md,
                        out ingress_intrinsic_metadata_t ig_intr_md,
                        out ingress_intrinsic_metadata_for_tm_t ig_tm_md,
                        out ingress_intrinsic_metadata_from_parser_t ig_prsr_md) {

    Checksum() ipv4_checksum;

    state start {
        pkt.extract(ig_intr_md);
        pkt.advance(PORT_METADATA_SIZE);
        transition select(ig_intr_md.ingress_port) {
            CPU_PORT: parse_packet_out;
            default:  parse_ethernet;
        }
    }

    state parse_packet_out {
        pkt.extract(hdr.nvgre.packet_out);
        transition parse_ethernet;
    }

    state bad {
        md.parse_bad = 1;
        transition accept;
    }

    state bad_tag {
        md.parse_bad_tag = 1;
        transition accept;
    }

    // ---------------------------------------------------------------- layer 1
    state parse_ethernet {
        pkt.extract(hdr.nvgre.ethernet);
        transition select(hdr.nvgre.ethernet.ether_type) {
            ETHERTYPE_VLAN:        parse_vlan;
            ETHERTYPE_QINQ:        bad_tag;
            ETHERTYPE_QINQ_LEGACY: bad_tag;
            ETHERTYPE_ARP:         parse_arp;
            ETHERTYPE_IPV4:        parse_ipv4;
            ETHERTYPE_IPV6:        parse_ipv6;
            default:               accept;
        }
    }

    state parse_vlan {
        pkt.extract(hdr.nvgre.vlan);
        transition select(hdr.nvgre.vlan.ether_type) {
            ETHERTYPE_VLAN:        bad_tag;
            ETHERTYPE_QINQ:        bad_tag;
            ETHERTYPE_QINQ_LEGACY: bad_tag;
            ETHERTYPE_ARP:         parse_arp;
            ETHERTYPE_IPV4:        parse_ipv4;
            ETHERTYPE_IPV6:        parse_ipv6;
            default:               accept;
        }
    }

    state parse_arp {
        pkt.extract(hdr.nvgre.arp);
        transition accept;
    }

    state parse_ipv4 {
        pkt.extract(hdr.nvgre.ipv4);
        ipv4_checksum.add(hdr.nvgre.ipv4);
        md.ipv4_checksum_ok = ipv4_checksum.verify();
        transition select(hdr.nvgre.ipv4.version, hdr.nvgre.ipv4.ihl) {
            (4, 5):         parse_ipv4_payload;
            (4, 0 &&& 0xC): bad;      // IHL 0-3
            (4, 4):         bad;
            (4, _):         skip_ipv4_options;
            default:        bad;
        }
    }

    // Options are not parsed (no varbit here): the options and what follows stay payload.
    // Ingress bridges such a frame, and drops it where the options would matter (fabric side,
    // tenant routing).
    state skip_ipv4_options {
        md.ipv4_options = 1;
        transition accept;
    }

    // Only unfragmented packets (offset 0, MF 0) are parsed past IPv4 (R12).
    state parse_ipv4_payload {
        transition select(hdr.nvgre.ipv4.frag_offset, hdr.nvgre.ipv4.flags[0:0],
                          hdr.nvgre.ipv4.protocol) {
            (0, 0, IP_PROTO_ICMP): parse_icmp;
            (0, 0, IP_PROTO_TCP):  parse_tcp;
            (0, 0, IP_PROTO_UDP):  parse_udp;
            (0, 0, IP_PROTO_GRE):  parse_gre;
            default:               accept;
        }
    }

    state parse_ipv6 {
        pkt.extract(hdr.nvgre.ipv6);
        transition select(hdr.nvgre.ipv6.version, hdr.nvgre.ipv6.next_hdr) {
            (6, IP_PROTO_ICMPV6):    parse_icmpv6;
            (6, IP_PROTO_TCP):       parse_tcp;
            (6, IP_PROTO_UDP):       parse_udp;
            (6, IP_PROTO_GRE):       parse_gre;
            (6, IP_PROTO_IPV6_FRAG): parse_ipv6_frag;
            (6, _):                  accept;
            default:                 bad;
        }
    }

    state parse_ipv6_frag {
        pkt.extract(hdr.nvgre.ipv6_frag);
        transition select(hdr.nvgre.ipv6_frag.frag_offset, hdr.nvgre.ipv6_frag.more,
                          hdr.nvgre.ipv6_frag.next_hdr) {
            (0, 0, IP_PROTO_TCP): parse_tcp;
            (0, 0, IP_PROTO_UDP): parse_udp;
            (0, 0, IP_PROTO_GRE): parse_gre;
            default:              accept;
        }
    }

    state parse_icmp {
        pkt.extract(hdr.nvgre.icmp);
        transition select(hdr.nvgre.icmp.type) {
            ICMP_ECHO_REQUEST: parse_icmp_echo;
            ICMP_ECHO_REPLY:   parse_icmp_echo;
            default:           accept;
        }
    }

    state parse_icmpv6 {
        pkt.extract(hdr.nvgre.icmpv6);
        transition select(hdr.nvgre.icmpv6.type) {
            ICMPV6_NEIGHBOR_SOLICITATION: parse_ndp;
            ICMPV6_ECHO_REQUEST:          parse_icmp_echo;
            ICMPV6_ECHO_REPLY:            parse_icmp_echo;
            default:                      accept;
        }
    }

    // The echo identifier, an L4 port to the flow hash (R3).
    state parse_icmp_echo {
        pkt.extract(hdr.nvgre.icmp_echo);
        transition accept;
    }

    state parse_ndp {
        pkt.extract(hdr.nvgre.ndp);
        transition select(hdr.nvgre.ipv6.payload_len) {
            ND_NS_WITH_SLL_LEN: parse_nd_option;
            default:            accept;
        }
    }

    state parse_nd_option {
        pkt.extract(hdr.nvgre.nd_option);
        transition accept;
    }

    state parse_tcp {
        pkt.extract(hdr.nvgre.tcp);
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.nvgre.udp);
        transition accept;
    }

    // GRE with every optional field, as include/parser.p4.
    state parse_gre {
        pkt.extract(hdr.nvgre.gre);
        transition select(hdr.nvgre.gre.C, hdr.nvgre.gre.R) {
            (0, 0):  parse_gre_key_opt;
            default: parse_gre_csum;
        }
    }

    state parse_gre_csum {
        pkt.extract(hdr.nvgre.gre_csum);
        transition parse_gre_key_opt;
    }

    state parse_gre_key_opt {
        transition select(hdr.nvgre.gre.K) {
            1:       parse_gre_key;
            default: parse_gre_seq_opt;
        }
    }

    state parse_gre_key {
        pkt.extract(hdr.nvgre.gre_key);
        transition parse_gre_seq_opt;
    }

    state parse_gre_seq_opt {
        transition select(hdr.nvgre.gre.S) {
            1:       parse_gre_seq;
            default: parse_gre_payload;
        }
    }

    state parse_gre_seq {
        pkt.extract(hdr.nvgre.gre_seq);
        transition parse_gre_payload;
    }

    state parse_gre_payload {
        transition select(hdr.nvgre.gre.R, hdr.nvgre.gre.protocol) {
            (0, GRE_PROTO_TEB): parse_inner_ethernet;
            default:            accept;
        }
    }

    // ---------------------------------------------------------------- layer 2 (inner)
    state parse_inner_ethernet {
        pkt.extract(hdr.nvgre.inner_ethernet);
        transition select(hdr.nvgre.inner_ethernet.ether_type) {
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
        pkt.extract(hdr.nvgre.inner_vlan);
        transition accept;
    }

    state parse_inner_arp {
        pkt.extract(hdr.nvgre.inner_arp);
        transition accept;
    }

    // Inner IPv4 options stay payload (as in v1model); version 4 and IHL >= 5 are required.
    state parse_inner_ipv4 {
        pkt.extract(hdr.nvgre.inner_ipv4);
        transition select(hdr.nvgre.inner_ipv4.version, hdr.nvgre.inner_ipv4.ihl) {
            (4, 0 &&& 0xC): bad;      // IHL 0-3
            (4, 4):         bad;
            (4, _):         parse_inner_ipv4_payload;
            default:        bad;
        }
    }

    state parse_inner_ipv4_payload {
        transition select(hdr.nvgre.inner_ipv4.ihl, hdr.nvgre.inner_ipv4.frag_offset,
                          hdr.nvgre.inner_ipv4.flags[0:0], hdr.nvgre.inner_ipv4.protocol) {
            (5, 0, 0, IP_PROTO_TCP): parse_inner_tcp;
            (5, 0, 0, IP_PROTO_UDP): parse_inner_udp;
            default:                 accept;
        }
    }

    state parse_inner_ipv6 {
        pkt.extract(hdr.nvgre.inner_ipv6);
        transition select(hdr.nvgre.inner_ipv6.version, hdr.nvgre.inner_ipv6.next_hdr) {
            (6, IP_PROTO_TCP): parse_inner_tcp;
            (6, IP_PROTO_UDP): parse_inner_udp;
            (6, _):            accept;
            default:           bad;
        }
    }

    state parse_inner_tcp {
        pkt.extract(hdr.nvgre.inner_tcp);
        transition accept;
    }

    state parse_inner_udp {
        pkt.extract(hdr.nvgre.inner_udp);
        transition accept;
    }
}

parser TnaEgressParser(packet_in pkt,
                       out egress_headers_t hdr,
                       out egress_metadata_t md,
                       out egress_intrinsic_metadata_t eg_intr_md,
                       out egress_intrinsic_metadata_from_parser_t eg_prsr_md,
                       out egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {

    state start {
        pkt.extract(eg_intr_md);
        transition select(pkt.lookahead<bit<8>>()) {
            MD_TYPE_BRIDGED:     parse_bridged;
            MD_TYPE_PUNT_MIRROR: parse_punt_mirror;
            default:             accept;
        }
    }

    // The MTU punt copy: the packet behind is the one that would have left (R12).
    state parse_punt_mirror {
        pkt.extract(hdr.punt_mirror);
        transition accept;
    }

    state parse_bridged {
        pkt.extract(hdr.bridged);
        transition select(hdr.bridged.has_tun) {
            1:       parse_tun_ethernet;
            default: parse_ethernet;
        }
    }

    state parse_tun_ethernet {
        pkt.extract(hdr.nvgre.tun_ethernet);
        transition select(hdr.nvgre.tun_ethernet.ether_type) {
            ETHERTYPE_IPV4: parse_tun_ipv4;
            ETHERTYPE_IPV6: parse_tun_ipv6;
            default:        accept;
        }
    }

    state parse_tun_ipv4 {
        pkt.extract(hdr.nvgre.tun_ipv4);
        transition parse_tun_gre;
    }

    state parse_tun_ipv6 {
        pkt.extract(hdr.nvgre.tun_ipv6);
        transition parse_tun_gre;
    }

    state parse_tun_gre {
        pkt.extract(hdr.nvgre.tun_gre);
        pkt.extract(hdr.nvgre.tun_gre_key);
        transition accept;
    }

    // Layer 1 as ingress left it (no 802.1Q tag: ingress strips it). Its IP header only for
    // underlay packets (the MTU check reads their length): a tenant frame's L3 may be
    // malformed or cut short and is bridged as it is (R4), so egress never parses it.
    state parse_ethernet {
        pkt.extract(hdr.nvgre.ethernet);
        transition select(hdr.bridged.kind, hdr.nvgre.ethernet.ether_type) {
            (ForwardKind_t.UNDERLAY, ETHERTYPE_IPV4):       parse_ipv4;
            (ForwardKind_t.UNDERLAY, ETHERTYPE_IPV6):       parse_ipv6;
            (ForwardKind_t.UNDERLAY_MCAST, ETHERTYPE_IPV4): parse_ipv4;
            (ForwardKind_t.UNDERLAY_MCAST, ETHERTYPE_IPV6): parse_ipv6;
            default:                               accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.nvgre.ipv4);
        transition accept;
    }

    state parse_ipv6 {
        pkt.extract(hdr.nvgre.ipv6);
        transition accept;
    }
}

#endif  // NVGRE_TNA_PARSER_P4
