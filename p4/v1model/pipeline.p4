// v1model ingress / egress glue around the shared pipelines.
//
// The only place that reads or writes standard_metadata, and the home of the v1model
// externs the shared code does not name: the indirect counters (R15), the learning
// digest, mark_to_drop and the egress clone that punts MTU drops (R12).
//
// Counters (P4Runtime names), all packets + bytes:
//   port_rx[ingress port]        every packet received, CPU_PORT included
//   port_tx[egress port]         every packet sent, CPU_PORT included
//   drops[drop reason]           ingress drops (plus VSID 0xFFFFFF punts), one per packet
//   egress_drops[drop reason]    egress drops, one per dropped copy
//   vsid_decap[vsid_index]       NVGRE packets decapsulated into the VSID
//   vsid_encap[vsid_index]       NVGRE packets sent from the VSID (unicast + flood copies)
//   vsid_flood[vsid_index]       frames flooded in the VSID (once per frame)

#ifndef NVGRE_V1MODEL_PIPELINE_P4
#define NVGRE_V1MODEL_PIPELINE_P4

control V1Ingress(inout headers_t hdr, inout local_metadata_t meta,
                  inout standard_metadata_t sm) {

    @name(".port_rx")
    counter(PORT_COUNT, CounterType.packets_and_bytes) port_rx;
    @name(".drops")
    counter(DROP_REASON_COUNT, CounterType.packets_and_bytes) drops;
    @name(".vsid_decap")
    counter(VSID_TABLE_SIZE, CounterType.packets_and_bytes) vsid_decap;
    @name(".vsid_flood")
    counter(VSID_TABLE_SIZE, CounterType.packets_and_bytes) vsid_flood;

    NvgreIngress() nvgre_ingress;

    apply {
        meta.ig_port = sm.ingress_port;
        meta.frame_len = (bit<16>)sm.packet_length;
        meta.ipv4_checksum_error = sm.checksum_error;
        port_rx.count((bit<32>)sm.ingress_port);

        // What a parser error costs is decided by the shared ingress (R4).
        if (sm.parser_error != error.NoError) {
            meta.parser_stopped = 1;
            if (sm.parser_error == error.UnsupportedTag) {
                meta.parser_stopped_at_tag = 1;
            }
        }
        nvgre_ingress.apply(hdr, meta);
        hdr.packet_out.setInvalid();

        if (meta.to_drop == 0 && meta.punt == 0 && meta.kind == ForwardKind_t.NONE) {
            set_drop(meta, DropReason_t.NO_DECISION);
        }
        if (meta.drop_reason != DropReason_t.NONE) {
            drops.count((bit<32>)(bit<8>)meta.drop_reason);
        }
        if (meta.count_decap == 1) {
            vsid_decap.count((bit<32>)meta.vsid_index);
        }
        if (meta.raise_learn == 1) {
            digest<learn_t>(LEARN_DIGEST_RECEIVER, meta.learn);
        }

        if (meta.to_drop == 1) {
            mark_to_drop(sm);
        } else if (meta.punt == 1) {
            meta.kind = ForwardKind_t.CPU;
            sm.egress_spec = CPU_PORT;
        } else if (meta.kind == ForwardKind_t.FLOOD || meta.kind == ForwardKind_t.UNDERLAY_MCAST) {
            sm.mcast_grp = meta.mcast_grp;
            if (meta.count_flood == 1) {
                vsid_flood.count((bit<32>)meta.vsid_index);
            }
        } else {
            sm.egress_spec = meta.out_port;
        }
    }
}

control V1Egress(inout headers_t hdr, inout local_metadata_t meta,
                 inout standard_metadata_t sm) {

    @name(".port_tx")
    counter(PORT_COUNT, CounterType.packets_and_bytes) port_tx;
    @name(".egress_drops")
    counter(DROP_REASON_COUNT, CounterType.packets_and_bytes) egress_drops;
    @name(".vsid_encap")
    counter(VSID_TABLE_SIZE, CounterType.packets_and_bytes) vsid_encap;

    PacketIoEgress() packet_io;
    NvgreEgress()    nvgre_egress;

    apply {
        if (sm.instance_type == PKT_INSTANCE_TYPE_EGRESS_CLONE) {
            // CPU copy of a packet dropped below for MTU: ig_port, punt_reason and
            // port_mtu were preserved by the clone's field list.
            packet_io.apply(hdr, meta);
            port_tx.count((bit<32>)sm.egress_port);
        } else if (meta.kind == ForwardKind_t.CPU) {
            // Ingress punt (packet_in needed) or packet_out sent straight to a port.
            if (meta.punt == 1) {
                packet_io.apply(hdr, meta);
            }
            port_tx.count((bit<32>)sm.egress_port);
        } else {
            meta.eg_port = sm.egress_port;
            meta.eg_rid = sm.egress_rid;
            // Ingress counted its reasons; egress counts only its own.
            meta.drop_reason = DropReason_t.NONE;
            nvgre_egress.apply(hdr, meta);

            if (meta.to_drop == 1) {
                egress_drops.count((bit<32>)(bit<8>)meta.drop_reason);
                if (meta.punt == 1) {
                    clone_preserving_field_list(CloneType.E2E, CPU_CLONE_SESSION_ID, FL_CPU_CLONE);
                }
                mark_to_drop(sm);
            } else {
                port_tx.count((bit<32>)sm.egress_port);
                if (meta.kind == ForwardKind_t.ENCAP) {
                    vsid_encap.count((bit<32>)meta.vsid_index);
                }
            }
        }
    }
}

#endif  // NVGRE_V1MODEL_PIPELINE_P4
