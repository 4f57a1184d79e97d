// v1model flow hash: FlowID and outer IPv6 flow label (R3).
//
// crc32 over the tenant frame's L2/L3/L4 fields (destination and source MAC, EtherType,
// CA source and destination, protocol, ports, the ICMP / ICMPv6 echo identifier as the
// source port; zeros where the frame has none, and past L2 when its L3 did not parse: see
// vsid.p4), reduced to 20 bits: the low 8 bits are the FlowID, all 20 the IPv6 flow label.
// One flow always gets the same FlowID; distinct flows spread over all 256 values.

#ifndef NVGRE_V1MODEL_HASHER_P4
#define NVGRE_V1MODEL_HASHER_P4

control FlowHasher(in headers_t hdr, inout local_metadata_t meta) {
    apply {
        hash(meta.flow_hash, HashAlgorithm.crc32, 32w0,
             { hdr.ethernet.dst_addr,
               hdr.ethernet.src_addr,
               hdr.ethernet.ether_type,
               meta.ca_src,
               meta.ca_dst,
               meta.l4_proto,
               meta.l4_sport,
               meta.l4_dport },
             32w0x100000);
        meta.flow_id = meta.flow_hash[7:0];
        meta.flow_label = meta.flow_hash[19:0];
    }
}

#endif  // NVGRE_V1MODEL_HASHER_P4
