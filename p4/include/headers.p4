// Headers, the metadata the controls share, the learning digest, and small helpers.
//
// Header layers (deparse order, see deparser.p4):
//   packet_in                       to the controller only
//   tun_*                           NVGRE encapsulation this switch adds (tunnel_encap.p4)
//   ethernet .. gre_seq             layer 1: the frame as received. On an access port that is
//                                   the tenant frame; on a fabric port the underlay packet.
//                                   After decap the inner frame is copied here, so every
//                                   tenant-side control reads the tenant frame from layer 1.
//   inner_*                         layer 2: the inner frame of a received NVGRE packet.

#ifndef NVGRE_HEADERS_P4
#define NVGRE_HEADERS_P4

// ---------------------------------------------------------------------------------------
// CPU port headers (P4Runtime ControllerPacketMetadata)
// ---------------------------------------------------------------------------------------
@controller_header("packet_in")
header packet_in_t {
    port_num_t    ingress_port;
    PuntReason_t  punt_reason;
    bit<16>       mtu;            // egress port MTU for PuntReason_t.MTU_EXCEEDED, else 0
    bit<7>        _pad;           // 0; padding to a byte multiple
}

@controller_header("packet_out")
header packet_out_t {
    port_num_t egress_port;       // used when through_pipeline = 0
    bit<1>     through_pipeline;  // 1: process as a frame received on CPU_PORT
    bit<6>     _pad;              // 0; padding to a byte multiple
}

// ---------------------------------------------------------------------------------------
// L2 / L3 / L4
// ---------------------------------------------------------------------------------------
header ethernet_t {
    mac_addr_t dst_addr;
    mac_addr_t src_addr;
    bit<16>    ether_type;
}

// 802.1Q tag; ethernet_t.ether_type holds the TPID, this header the encapsulated type.
header vlan_t {
    bit<3>    pcp;
    bit<1>    dei;
    vlan_id_t vlan_id;
    bit<16>   ether_type;
}

// ARP for Ethernet / IPv4 (28 bytes).
header arp_t {
    bit<16>     htype;
    bit<16>     ptype;
    bit<8>      hlen;
    bit<8>      plen;
    bit<16>     oper;
    mac_addr_t  sha;
    ipv4_addr_t spa;
    mac_addr_t  tha;
    ipv4_addr_t tpa;
}

header ipv4_t {
    bit<4>      version;
    bit<4>      ihl;
    bit<6>      dscp;
    bit<2>      ecn;
    bit<16>     total_len;
    bit<16>     identification;
    bit<3>      flags;            // reserved, DF, MF
    bit<13>     frag_offset;
    bit<8>      ttl;
    bit<8>      protocol;
    bit<16>     hdr_checksum;
    ipv4_addr_t src_addr;
    ipv4_addr_t dst_addr;
}

header ipv4_options_t {
    varbit<320> options;
}

header ipv6_t {
    bit<4>      version;
    bit<8>      traffic_class;
    bit<20>     flow_label;
    bit<16>     payload_len;
    bit<8>      next_hdr;
    bit<8>      hop_limit;
    ipv6_addr_t src_addr;
    ipv6_addr_t dst_addr;
}

header ipv6_frag_t {
    bit<8>  next_hdr;
    bit<8>  reserved;
    bit<13> frag_offset;
    bit<2>  res;
    bit<1>  more;
    bit<32> identification;
}

// ICMP and ICMPv6 share the first 4 bytes.
header icmp_t {
    bit<8>  type;
    bit<8>  code;
    bit<16> checksum;
}

// ICMP / ICMPv6 echo request and reply, after icmp_t: the identifier tells ping sessions
// apart, so the flow hash takes it as an L4 port (R3).
header icmp_echo_t {
    bit<16> identifier;
    bit<16> seq_no;
}

// Neighbor Solicitation / Advertisement body after the ICMPv6 header.
header ndp_t {
    bit<32>     flags;            // NA: R, S, O, reserved; NS: reserved
    ipv6_addr_t target;
}

// Source / target link-layer address option for Ethernet (8 bytes).
header nd_option_t {
    bit<8>     type;
    bit<8>     len;
    mac_addr_t lladdr;
}

header tcp_t {
    bit<16> src_port;
    bit<16> dst_port;
    bit<32> seq_no;
    bit<32> ack_no;
    bit<4>  data_offset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgent_ptr;
}

header udp_t {
    bit<16> src_port;
    bit<16> dst_port;
    bit<16> len;
    bit<16> checksum;
}

// ---------------------------------------------------------------------------------------
// GRE (RFC 2784 / 2890 / 1701 flag layout) and the NVGRE key (RFC 7637)
// ---------------------------------------------------------------------------------------
header gre_t {
    bit<1>  C;            // checksum present
    bit<1>  R;            // routing present (RFC 1701)
    bit<1>  K;            // key present
    bit<1>  S;            // sequence number present
    bit<1>  s;            // strict source route (RFC 1701)
    bit<3>  recur;        // recursion control (RFC 1701)
    bit<1>  A;            // acknowledgment present (RFC 2637)
    bit<4>  flags;
    bit<3>  version;
    bit<16> protocol;
}

// Present when C or R is set.
header gre_csum_t {
    bit<16> checksum;
    bit<16> offset;
}

// Key = VSID << 8 | FlowID (R2).
header gre_key_t {
    vsid_t vsid;
    bit<8> flow_id;
}

header gre_seq_t {
    bit<32> seq_no;
}

struct headers_t {
    packet_out_t   packet_out;
    packet_in_t    packet_in;

    // Encapsulation added by this switch.
    ethernet_t     tun_ethernet;
    vlan_t         tun_vlan;
    ipv4_t         tun_ipv4;
    ipv6_t         tun_ipv6;
    gre_t          tun_gre;
    gre_key_t      tun_gre_key;

    // Layer 1.
    ethernet_t     ethernet;
    vlan_t         vlan;
    arp_t          arp;
    ipv4_t         ipv4;
    ipv4_options_t ipv4_options;
    ipv6_t         ipv6;
    ipv6_frag_t    ipv6_frag;
    icmp_t         icmp;
    icmp_t         icmpv6;
    icmp_echo_t    icmp_echo;         // after icmp or icmpv6
    ndp_t          ndp;
    nd_option_t    nd_option;
    tcp_t          tcp;
    udp_t          udp;
    gre_t          gre;
    gre_csum_t     gre_csum;
    gre_key_t      gre_key;
    gre_seq_t      gre_seq;

    // Layer 2: inner frame of a received NVGRE packet. Parsed only as deep as the tenant
    // side needs; whatever is not parsed (IPv4 options, extension headers) stays payload.
    ethernet_t     inner_ethernet;
    vlan_t         inner_vlan;
    arp_t          inner_arp;
    ipv4_t         inner_ipv4;
    ipv6_t         inner_ipv6;
    tcp_t          inner_tcp;
    udp_t          inner_udp;
}

// ---------------------------------------------------------------------------------------
// Learning digest (P4Runtime digest "learn_t")
// ---------------------------------------------------------------------------------------
// Raised for an unknown (VSID, source MAC, location): location = access port when
// from_nve = 0, else the remote NVE's PA (IPv4 in the low 32 bits when pa_is_v6 = 0).
struct learn_t {
    vsid_t     vsid;
    mac_addr_t mac;
    port_num_t port;
    bit<1>     from_nve;
    bit<1>     pa_is_v6;
    bit<128>   pa;
}

// ECMP selector input (R9), always fully written before the ecmp table: NVGRE uses outer
// addresses, protocol 47 and the whole 32-bit key (ports 0); other IP uses the 5-tuple
// (key 0; an ICMP / ICMPv6 echo's identifier is the source port). IPv4 addresses sit in
// the low 32 bits.
struct ecmp_fields_t {
    bit<128> src;
    bit<128> dst;
    bit<8>   proto;
    bit<32>  gre_key;
    bit<16>  sport;
    bit<16>  dport;
}

struct local_metadata_t {
    // Arch-neutral view of the intrinsic metadata, filled and consumed by the arch glue.
    CPU_CLONE_PRESERVED port_num_t ig_port;
    port_num_t    eg_port;             // egress: port of this copy
    replica_id_t  eg_rid;              // egress: replica id of this copy
    bit<1>        ipv4_checksum_error; // layer-1 IPv4 header checksum failed
    bit<1>        parser_stopped;      // the parser ended in an error (truncated, malformed)
    bit<1>        parser_stopped_at_tag; // ... at an S-tag or a second tag (R5)
    bit<16>       frame_len;           // bytes of the layer-1 frame as it will leave

    // Decision.
    ForwardKind_t kind;
    port_num_t    out_port;
    mcast_group_t mcast_grp;
    bit<1>        to_drop;
    DropReason_t  drop_reason;
    CPU_CLONE_PRESERVED bit<1>        punt;
    CPU_CLONE_PRESERVED PuntReason_t  punt_reason;
    CPU_CLONE_PRESERVED bit<16>       port_mtu;
    bit<1>        raise_learn;
    learn_t       learn;
    bit<1>        count_decap;
    bit<1>        count_flood;

    // Switch configuration.
    bit<8>        encap_ttl;
    bit<1>        punt_vsid_ffffff;

    // Classification.
    PortType_t    port_type;
    bit<1>        vlan_tagged;
    vlan_id_t     vlan_id;
    FabricAction_t fabric_action;
    bit<1>        from_fabric;         // tenant frame came out of a validated NVGRE packet
    vsid_t        vsid;
    vsid_index_t  vsid_index;
    vrf_id_t      vrf_id;
    mac_addr_t    gw_mac;
    bit<1>        learn_local;
    bit<1>        learn_remote;
    bit<1>        guard_on;
    bit<1>        pa_check_on;

    // Outer source of a decapsulated packet (R17 PA validation, learning).
    bit<1>        outer_is_v6;
    ipv4_addr_t   outer_src_v4;
    ipv6_addr_t   outer_src_v6;

    // Tenant frame view.
    bit<1>        l3_unparsed;         // L3 or deeper failed to parse: bridged only (R4)
    CaFamily_t    ca_family;
    bit<128>      ca_src;
    bit<128>      ca_dst;
    bit<8>        l4_proto;
    bit<16>       l4_sport;
    bit<16>       l4_dport;
    bit<1>        routed;
    tenant_nh_t   tenant_nh;
    bit<32>       flow_hash;
    bit<8>        flow_id;             // R3
    bit<20>       flow_label;          // outer IPv6 flow label, same entropy as flow_id

    // Flooding.
    mcast_group_t flood_grp;
    mcast_group_t flood_grp_local;

    // Tunnel.
    nve_id_t      nve_id;
    bit<1>        nve_is_v6;
    ipv4_addr_t   nve_pa_v4;
    ipv6_addr_t   nve_pa_v6;
    ipv4_addr_t   src_pa_v4;
    ipv6_addr_t   src_pa_v6;

    // Underlay next hop.
    ipv4_addr_t   ul_dst_v4;
    ipv6_addr_t   ul_dst_v6;
    ecmp_fields_t ecmp;
    bit<1>        use_ecmp;
    ecmp_group_t  ecmp_group;
    bit<1>        ul_mcast;
    mac_addr_t    nh_smac;
    mac_addr_t    nh_dmac;

    // Egress.
    vsid_t        eg_vlan_vsid;
    bit<1>        eg_vlan_valid;
    vlan_id_t     eg_vlan;

    // Checksum requests for the arch's checksum unit.
    bit<1>        nd_reply;
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------
// Incremental Internet checksum update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
// Used where a router changes one 16-bit word (TTL + protocol) of an IPv4 header that may
// carry options, so the checksum never has to be recomputed over the options.
bit<16> csum16_update(in bit<16> hc, in bit<16> m_old, in bit<16> m_new) {
    bit<32> sum = (bit<32>)(~hc) + (bit<32>)(~m_old) + (bit<32>)m_new;
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    return ~sum[15:0];
}

#endif  // NVGRE_HEADERS_P4
