// Types, protocol constants, table sizes, drop and punt reasons of the NVGRE program.
// Architecture-neutral: the port type (port_num_t) and the special ports come from the
// arch glue (p4/v1model/arch.p4), which is included first.

#ifndef NVGRE_DEFINES_P4
#define NVGRE_DEFINES_P4

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------
typedef bit<48>  mac_addr_t;
typedef bit<32>  ipv4_addr_t;
typedef bit<128> ipv6_addr_t;
typedef bit<12>  vlan_id_t;
typedef bit<24>  vsid_t;          // RFC 7637 Virtual Subnet ID (R2)
typedef bit<14>  vsid_index_t;    // controller-assigned dense index of a VSID, < VSID_TABLE_SIZE
typedef bit<16>  vrf_id_t;        // tenant routing domain (R14)
typedef bit<16>  nve_id_t;        // controller-assigned id of a tunnel destination (1..)
typedef bit<16>  replica_id_t;    // egress_rid of a flood replica; 0 = local port copy
typedef bit<16>  mcast_group_t;   // multicast group of the packet replication engine
typedef bit<16>  ecmp_group_t;
typedef bit<16>  tenant_nh_t;

// ---------------------------------------------------------------------------------------
// Protocol constants
// ---------------------------------------------------------------------------------------
const bit<16> ETHERTYPE_IPV4        = 0x0800;
const bit<16> ETHERTYPE_ARP         = 0x0806;
const bit<16> ETHERTYPE_VLAN        = 0x8100;   // IEEE 802.1Q C-tag
const bit<16> ETHERTYPE_QINQ        = 0x88A8;   // IEEE 802.1ad S-tag
const bit<16> ETHERTYPE_QINQ_LEGACY = 0x9100;
const bit<16> ETHERTYPE_IPV6        = 0x86DD;

const bit<8> IP_PROTO_ICMP      = 1;
const bit<8> IP_PROTO_TCP       = 6;
const bit<8> IP_PROTO_UDP       = 17;
const bit<8> IP_PROTO_GRE       = 47;
const bit<8> IP_PROTO_IPV6_FRAG = 44;
const bit<8> IP_PROTO_ICMPV6    = 58;

const bit<16> ARP_HTYPE_ETHERNET = 1;
const bit<16> ARP_OPER_REQUEST   = 1;
const bit<16> ARP_OPER_REPLY     = 2;

// Echo request / reply carry an identifier the flow hash takes as an L4 port (R3).
const bit<8> ICMP_ECHO_REPLY     = 0;
const bit<8> ICMP_ECHO_REQUEST   = 8;
const bit<8> ICMPV6_ECHO_REQUEST = 128;
const bit<8> ICMPV6_ECHO_REPLY   = 129;
const bit<8> ICMPV6_NEIGHBOR_SOLICITATION  = 135;
const bit<8> ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
const bit<8> ND_OPT_SOURCE_LLADDR = 1;
const bit<8> ND_OPT_TARGET_LLADDR = 2;
// An NS is answered only when it is exactly an NS (24 bytes) or an NS plus one source
// link-layer address option (32 bytes), so the NA built in place is the whole message.
const bit<16> ND_NS_LEN          = 24;
const bit<16> ND_NS_WITH_SLL_LEN = 32;
const bit<16> ND_NA_LEN          = 32;

// GRE (R1): C=0, R=0, K=1, S=0, version 0, protocol 0x6558 = bytes 20 00 65 58.
const bit<16> GRE_PROTO_TEB = 0x6558;   // Transparent Ethernet Bridging

// Bytes this program strips or adds; used to keep frame lengths exact.
const bit<16> ETH_HDR_BYTES        = 14;
const bit<16> ETH_MIN_FRAME_BYTES  = 60;   // without FCS; shorter frames are padded to it
const bit<16> VLAN_HDR_BYTES       = 4;
const bit<16> IPV4_MIN_HDR_BYTES   = 20;
const bit<16> IPV6_HDR_BYTES       = 40;
const bit<16> IPV6_FRAG_HDR_BYTES  = 8;
const bit<16> GRE_KEYED_HDR_BYTES  = 8;    // GRE base (4) + key (4)
const bit<16> PACKET_OUT_HDR_BYTES = 2;

// VSIDs (R6). VSID 0 is reserved by the RFC, so the program uses it internally as "the
// underlay": ARP/ND responder entries for the switch's own PAs, and the egress VLAN of
// fabric ports, are keyed by VSID 0.
const vsid_t VSID_UNDERLAY     = 0;
const vsid_t VSID_RESERVED_MAX = 0x000FFF;
const vsid_t VSID_VENDOR       = 0xFFFFFF;

const bit<8> DEFAULT_ENCAP_TTL = 64;

// ---------------------------------------------------------------------------------------
// Table sizes (ToR scale)
// ---------------------------------------------------------------------------------------
#define PORT_COUNT                 512
#define PORT_TABLE_SIZE            512
#define PORT_VSID_TABLE_SIZE       16384
#define MY_MAC_TABLE_SIZE          64
#define LOCAL_PA_TABLE_SIZE        256
#define VSID_TABLE_SIZE            16384    // >= 16K VSIDs; also the per-VSID counter size
#define VSID_NVE_TABLE_SIZE        65536    // (VSID, remote PA) pairs for PA validation
#define SOURCE_GUARD_TABLE_SIZE    65536
#define LEARNED_MAC_TABLE_SIZE     65536
#define ARP_ND_TABLE_SIZE          65536
#define TENANT_ROUTE_TABLE_SIZE    16384
#define TENANT_NEXTHOP_TABLE_SIZE  16384
#define MAC_TABLE_SIZE             65536    // >= 64K MAC entries
#define NVE_TABLE_SIZE             4096     // >= 4K remote NVEs
#define SRC_PA_TABLE_SIZE          16384
#define UNDERLAY_ROUTE_TABLE_SIZE  16384    // >= 16K underlay routes (per family)
#define ECMP_GROUP_TABLE_SIZE      1024
#define ECMP_SELECTOR_SIZE         4096
#define ECMP_MAX_GROUP_SIZE        64
#define REPLICA_TABLE_SIZE         8192     // remote NVEs + VSID PA multicast groups
#define EGRESS_VLAN_TABLE_SIZE     16384
#define DROP_REASON_COUNT          256

// ---------------------------------------------------------------------------------------
// Kinds and reasons: serializable enums. Values are fixed (counters, goldens and the
// controller rely on them); the comment beside each member is its description, which
// `make p4` copies into p4/build/nvgre.enums.json next to the P4Info that carries the
// enum's members and values (type_info.serializable_enums). One member per line.
// ---------------------------------------------------------------------------------------

// Port types (port_type table).
enum bit<2> PortType_t {
    UNCLASSIFIED = 0,               // no port_type entry matched (yet)
    ACCESS       = 1,               // tenant side: (port, VLAN) -> VSID
    FABRIC       = 2,               // underlay side: IP to the router MAC, NVGRE
}

// What the fabric side made of a frame (TunnelTermination).
enum bit<2> FabricAction_t {
    NONE    = 0,                    // nothing yet
    DECAP   = 1,                    // IP to a local PA carrying GRE: validate + decap
    RESPOND = 2,                    // ARP request / NS: answer for an own PA
    TRANSIT = 3,                    // IP to the router MAC, not for us: route it
}

// Forwarding kind: decided in ingress, read by egress.
enum bit<3> ForwardKind_t {
    NONE           = 0,             // no decision (dropped as NO_DECISION)
    TENANT_LOCAL   = 1,             // tenant frame to a local access port
    ENCAP          = 2,             // tenant frame NVGRE-encapsulated toward an NVE
    FLOOD          = 3,             // tenant flood; rid 0 = local copy, rid != 0 = tunnel copy
    UNDERLAY       = 4,             // routed underlay packet, or the switch's own ARP/ND reply
    UNDERLAY_MCAST = 5,             // underlay IP multicast (PA multicast groups, R10)
    CPU            = 6,             // punt to the CPU, or packet_out straight to a port
}

// Address family of the tenant frame's CA (source guard key, flow hash).
enum bit<2> CaFamily_t {
    NONE = 0,                       // the frame is neither IP nor ARP
    IPV4 = 1,                       // IPv4 header, or ARP sender/target protocol address
    IPV6 = 2,                       // IPv6 header
    UNPARSED = 3,                   // its L3 (or what follows) failed to parse: no CA known (R4)
}

// Drop reasons: index of the "drops" (ingress) and "egress_drops" counters. Every dropped
// packet is counted exactly once, under the first reason that applies.
enum bit<8> DropReason_t {
    NONE                 = 0,       // not dropped (counter index 0 is never used)
    PARSER_ERROR         = 1,       // malformed / truncated input
    IPV4_CHECKSUM        = 2,       // bad outer IPv4 header checksum (fabric)
    PORT_UNKNOWN         = 3,       // port_type miss
    PORT_VLAN_UNKNOWN    = 4,       // access (port, VLAN) not in a VSID
    NOT_MY_MAC           = 5,       // fabric frame not to the router MAC
    TO_SELF_UNHANDLED    = 6,       // for the switch, but nothing handles it
    UNDERLAY_TTL_EXPIRED = 7,       // TTL / hop limit expired in transit
    UNDERLAY_ROUTE_MISS  = 8,       // no underlay route (or ECMP member) for the outer destination address
    OUTER_FRAGMENT       = 9,       // R12: fragmented NVGRE discarded
    GRE_FLAGS            = 10,      // C, R, S (or s / recursion) set (R1)
    GRE_VERSION          = 11,      // version != 0 (R1)
    GRE_NO_KEY           = 12,      // K = 0 (R1)
    GRE_PROTOCOL         = 13,      // protocol != 0x6558 (R1)
    VSID_RESERVED        = 14,      // VSID <= 0xFFF (R6)
    VSID_FFFFFF          = 15,      // VSID 0xFFFFFF (R6); counted also when punted
    INNER_VLAN           = 16,      // inner 802.1Q, 802.1ad or 0x9100 tag (R5)
    VSID_UNKNOWN         = 17,      // VSID not configured here
    PA_NOT_NVE_OF_VSID   = 18,      // R17 PA validation
    SOURCE_GUARD         = 19,      // R17 source guard
    TENANT_ROUTE_MISS    = 20,      // no tenant route for the inner destination address (R14)
    TENANT_TTL_EXPIRED   = 21,      // inner TTL / hop limit expired when routed in the tenant (R14)
    ROUTED_DST_UNKNOWN   = 22,      // routed frame's destination MAC unknown
    BRIDGE_SAME_PORT     = 23,      // bridged back to its ingress port
    SPLIT_HORIZON        = 24,      // fabric -> fabric (R10 split horizon)
    FLOOD_NO_GROUP       = 25,      // VSID without a flood group
    NVE_UNKNOWN          = 26,      // nve table miss
    SRC_PA_MISS          = 27,      // no source PA of the needed family (R8)
    NO_DECISION          = 28,      // safety net: nothing decided
    FLOOD_PRUNE          = 29,      // egress: replica to the ingress port
    REPLICA_UNKNOWN      = 30,      // egress: flood_replica miss
    EGRESS_VLAN_MISS     = 31,      // egress: (port, VSID) has no VLAN mapping
    MTU_EXCEEDED         = 32,      // egress: R12, also punted
    IP_LENGTH            = 33,      // fabric IP length disagrees with the frame
}

// Punt reasons (packet_in.punt_reason; never NONE).
enum bit<8> PuntReason_t {
    NONE         = 0,               // not punted
    MTU_EXCEEDED = 1,               // packet_in.mtu = egress port MTU (R12)
    VSID_FFFFFF  = 2,               // NVGRE with VSID 0xFFFFFF, as received (R6)
    ICMP_TO_SELF = 3,               // ICMP / ICMPv6 (ping, PMTUD) to an own PA
}
#endif  // NVGRE_DEFINES_P4
