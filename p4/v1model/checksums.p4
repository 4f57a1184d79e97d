// v1model checksum units.
//
// Verify: the layer-1 IPv4 header checksum, options included; a failure sets
// standard_metadata.checksum_error, and the fabric side drops it (DropReason_t.IPV4_CHECKSUM).
// Tenant frames on access ports are bridged whatever their checksum.
// Update: the outer IPv4 header this switch builds (tun_ipv4), and the ICMPv6 checksum of
// a Neighbor Advertisement built by the ND responder (pseudo-header + the whole 32-byte
// message, all of it in headers, so no payload is involved). Routed packets (TTL
// decrement) are updated incrementally where they are changed, see csum16_update().

#ifndef NVGRE_V1MODEL_CHECKSUMS_P4
#define NVGRE_V1MODEL_CHECKSUMS_P4

control V1VerifyChecksum(inout headers_t hdr, inout local_metadata_t meta) {
    apply {
        // Two units because the options are a varbit that only exists when ihl > 5.
        verify_checksum(hdr.ipv4.isValid() && !hdr.ipv4_options.isValid(),
            { hdr.ipv4.version,
              hdr.ipv4.ihl,
              hdr.ipv4.dscp,
              hdr.ipv4.ecn,
              hdr.ipv4.total_len,
              hdr.ipv4.identification,
              hdr.ipv4.flags,
              hdr.ipv4.frag_offset,
              hdr.ipv4.ttl,
              hdr.ipv4.protocol,
              hdr.ipv4.src_addr,
              hdr.ipv4.dst_addr },
            hdr.ipv4.hdr_checksum,
            HashAlgorithm.csum16);
        verify_checksum(hdr.ipv4.isValid() && hdr.ipv4_options.isValid(),
            { hdr.ipv4.version,
              hdr.ipv4.ihl,
              hdr.ipv4.dscp,
              hdr.ipv4.ecn,
              hdr.ipv4.total_len,
              hdr.ipv4.identification,
              hdr.ipv4.flags,
              hdr.ipv4.frag_offset,
              hdr.ipv4.ttl,
              hdr.ipv4.protocol,
              hdr.ipv4.src_addr,
              hdr.ipv4.dst_addr,
              hdr.ipv4_options.options },
            hdr.ipv4.hdr_checksum,
            HashAlgorithm.csum16);
    }
}

control V1ComputeChecksum(inout headers_t hdr, inout local_metadata_t meta) {
    apply {
        update_checksum(hdr.tun_ipv4.isValid(),
            { hdr.tun_ipv4.version,
              hdr.tun_ipv4.ihl,
              hdr.tun_ipv4.dscp,
              hdr.tun_ipv4.ecn,
              hdr.tun_ipv4.total_len,
              hdr.tun_ipv4.identification,
              hdr.tun_ipv4.flags,
              hdr.tun_ipv4.frag_offset,
              hdr.tun_ipv4.ttl,
              hdr.tun_ipv4.protocol,
              hdr.tun_ipv4.src_addr,
              hdr.tun_ipv4.dst_addr },
            hdr.tun_ipv4.hdr_checksum,
            HashAlgorithm.csum16);

        update_checksum(meta.nd_reply == 1,
            { hdr.ipv6.src_addr,
              hdr.ipv6.dst_addr,
              (bit<32>)ND_NA_LEN,
              24w0,
              IP_PROTO_ICMPV6,
              hdr.icmpv6.type,
              hdr.icmpv6.code,
              hdr.ndp.flags,
              hdr.ndp.target,
              hdr.nd_option.type,
              hdr.nd_option.len,
              hdr.nd_option.lladdr },
            hdr.icmpv6.checksum,
            HashAlgorithm.csum16);
    }
}

#endif  // NVGRE_V1MODEL_CHECKSUMS_P4
