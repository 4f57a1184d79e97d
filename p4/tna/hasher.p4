// TNA flow hash: FlowID and outer IPv6 flow label (R3), the Hash extern in place of v1model's
// hash() (p4/v1model/hasher.p4). Same inputs (the ICMP / ICMPv6 echo identifier is the
// source port, vsid.p4), same CRC-32: one flow always gets the same
// FlowID; distinct flows spread over all 256 values.

#ifndef NVGRE_TNA_HASHER_P4
#define NVGRE_TNA_HASHER_P4

control FlowHasher(in headers_t hdr, inout local_metadata_t meta) {

    Hash<bit<32>>(HashAlgorithm_t.CRC32) flow_hash;

    apply {
        meta.flow_hash = flow_hash.get({ hdr.ethernet.dst_addr,
                                         hdr.ethernet.src_addr,
                                         hdr.ethernet.ether_type,
                                         meta.ca_src,
                                         meta.ca_dst,
                                         meta.l4_proto,
                                         meta.l4_sport,
                                         meta.l4_dport });
        meta.flow_id = meta.flow_hash[7:0];
        meta.flow_label = meta.flow_hash[19:0];
    }
}

#endif  // NVGRE_TNA_HASHER_P4
