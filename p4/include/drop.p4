// The one way a control drops a packet: it marks the packet and names the reason, which the
// arch glue counts (drops / egress_drops, indexed by DropReason_t) before dropping it. Every
// control after the first drop checks to_drop, so the first reason that applies is the one
// counted.

#ifndef NVGRE_DROP_P4
#define NVGRE_DROP_P4

void set_drop(inout local_metadata_t meta, in DropReason_t reason) {
    meta.to_drop = 1;
    meta.drop_reason = reason;
}

#endif  // NVGRE_DROP_P4
