// Packet I/O with the controller through CPU_PORT.
//
// packet_out (controller -> switch):
//   through_pipeline = 0: sent unchanged to packet_out.egress_port; no table is applied.
//   through_pipeline = 1: processed as a frame received on CPU_PORT, so CPU_PORT needs a
//     port_type entry (fabric, or access with port_vsid entries mapping a VLAN to a VSID).
// packet_in (switch -> controller): ingress port, punt reason and, for MTU punts, the
// egress port MTU (R12) so the controller can answer ICMP frag-needed / packet-too-big.

#ifndef NVGRE_PACKET_IO_P4
#define NVGRE_PACKET_IO_P4

control PacketIoIngress(inout headers_t hdr, inout local_metadata_t meta) {
    apply {
        if (hdr.packet_out.isValid()) {
            if (hdr.packet_out.through_pipeline == 0) {
                meta.kind = ForwardKind_t.CPU;
                meta.out_port = hdr.packet_out.egress_port;
            } else {
                meta.frame_len = meta.frame_len - PACKET_OUT_HDR_BYTES;
            }
            hdr.packet_out.setInvalid();
        }
    }
}

// Builds packet_in for a punted packet: an ingress punt, or the CPU clone of a packet
// dropped for MTU in egress (whose ig_port, punt_reason and port_mtu were preserved).
control PacketIoEgress(inout headers_t hdr, in local_metadata_t meta) {
    apply {
        hdr.packet_in.setValid();
        hdr.packet_in.ingress_port = meta.ig_port;
        hdr.packet_in.punt_reason = meta.punt_reason;
        hdr.packet_in.mtu = meta.port_mtu;
        hdr.packet_in._pad = 0;
    }
}

#endif  // NVGRE_PACKET_IO_P4
