// What TNA needs beyond include/headers.p4: the bridged metadata ingress hands to egress (TNA
// metadata does not cross the traffic manager), the mirror header of MTU punt copies, and the
// per-gress header / metadata structs wrapping the shared headers_t and local_metadata_t.

#ifndef NVGRE_TNA_BRIDGED_P4
#define NVGRE_TNA_BRIDGED_P4

// Ingress -> egress, in front of every packet ingress forwards. What egress reads of the
// shared local_metadata_t, nothing more: the decision, the tenant context for flood tunnel
// replicas (encapsulated in egress: VSID, FlowID / flow label, source PAs, TTL) and the punt.
header bridged_md_t {
    bit<8>        md_type;          // MD_TYPE_BRIDGED
    bit<7>        _pad0;
    port_num_t    ig_port;
    bit<5>        _pad1;
    ForwardKind_t kind;
    bit<5>        _pad2;
    bit<1>        from_fabric;
    bit<1>        punt;
    bit<1>        has_tun;          // ingress built tun_* (unicast encap): egress parses them
    PuntReason_t  punt_reason;
    vsid_t        vsid;
    bit<2>        _pad3;
    vsid_index_t  vsid_index;
    bit<8>        flow_id;
    bit<4>        _pad4;
    bit<20>       flow_label;
    bit<8>        encap_ttl;
    ipv4_addr_t   src_pa_v4;
    ipv6_addr_t   src_pa_v6;
}

// Prepended by the egress deparser to the MTU punt copy (R12): what v1model preserves with
// its clone field list.
header punt_mirror_md_t {
    bit<8>        md_type;          // MD_TYPE_PUNT_MIRROR
    bit<7>        _pad0;
    port_num_t    ig_port;
    PuntReason_t  punt_reason;
    bit<16>       port_mtu;
}

struct ingress_headers_t {
    bridged_md_t bridged;
    headers_t    nvgre;
}

// Metadata is not zeroed by Tofino's parser; the shared controls rely on it (v1model zeroes
// it), so bf-p4c is asked to initialise every metadata field it cannot prove written.
@pa_auto_init_metadata
struct ingress_metadata_t {
    local_metadata_t nvgre;
    bool             ipv4_checksum_ok;     // parser Checksum over layer-1 IPv4
    bit<1>           parse_bad;            // what v1model's verify() rejects in L3
    bit<1>           parse_bad_tag;        // ... and in L2: an S-tag or a second tag (R5)
    bit<1>           ipv4_options;         // layer-1 IPv4 has options (not parsed)
    bit<1>           update_ipv4_checksum; // layer-1 IPv4 TTL changed (routed, transit)
    // ICMPv6 pseudo-header words of a Neighbor Advertisement built in place (R16).
    bit<32>          nd_upper_len;
    bit<32>          nd_next_header;
}

struct egress_headers_t {
    bridged_md_t     bridged;
    punt_mirror_md_t punt_mirror;
    headers_t        nvgre;
}

struct egress_metadata_t {
    local_metadata_t nvgre;
    MirrorId_t       mirror_session;
    // MD_TYPE_PUNT_MIRROR, from a field: Tofino 1 refuses non-zero constants in the mirror
    // field list.
    bit<8>           mirror_md_type;
}

#endif  // NVGRE_TNA_BRIDGED_P4
