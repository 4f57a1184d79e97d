// TNA / T2NA architecture glue, part 1: the target's types and constants.
//
// The TNA counterpart of p4/v1model/arch.p4, included first (before include/defines.p4).
// One source serves both Tofino generations: bf-p4c defines __TARGET_TOFINO__ (1 or 2) from
// --target, which picks tna.p4 or t2na.p4 and the per-target constants below and in sizes.p4.

#ifndef NVGRE_TNA_ARCH_P4
#define NVGRE_TNA_ARCH_P4

#include <core.p4>
#if __TARGET_TOFINO__ == 2
#include <t2na.p4>
#else
#include <tna.p4>
#endif

// Tofino device ports: 9 bits, pipe << 7 | port (the controller checks the same rule).
typedef PortId_t port_num_t;

// The PCIe CPU port is SKU-specific and the parser needs it as a constant: Tofino 1 has it at
// 320 on 4-pipe parts and the Tofino model, 192 on 2-pipe parts; Tofino 2 at 0. Compile with
// -DCPU_PORT_ID=192 for a 2-pipe Tofino, and give the switch the same cpuPort in the fabric file.
#ifndef CPU_PORT_ID
#if __TARGET_TOFINO__ == 2
#define CPU_PORT_ID 0
#else
#define CPU_PORT_ID 320
#endif
#endif
const port_num_t CPU_PORT = CPU_PORT_ID;

// Mirror session the egress mirrors MTU punts into (R12); the controller creates it as the
// P4Runtime clone session of that id with one replica to the CPU port (PI on bf_switchd maps
// clone sessions to mirror sessions). Tofino 2 mirror ids are 8 bits. Must equal the target's
// cpuCloneSession in controller/targets/profiles.ts.
#if __TARGET_TOFINO__ == 2
const MirrorId_t CPU_MIRROR_SESSION = 250;
#else
const MirrorId_t CPU_MIRROR_SESSION = 511;
#endif

// v1model preserves fields into its clone with @field_list; TNA carries them in the mirror
// header (punt_mirror_md_t) instead, so the annotation in include/headers.p4 expands to nothing.
#define CPU_CLONE_PRESERVED

// Deparser selectors: the learning digest and the egress mirror of MTU punts.
const DigestType_t DIGEST_TYPE_LEARN = 1;
const MirrorType_t MIRROR_TYPE_PUNT  = 1;

// First byte of what egress receives in front of the packet: bridged metadata from ingress,
// or the mirror header of an MTU punt copy.
const bit<8> MD_TYPE_BRIDGED     = 0xB1;
const bit<8> MD_TYPE_PUNT_MIRROR = 0xB2;

// eg_intr_md.pkt_length counts the frame check sequence, which the deparsed frame lacks.
// To verify on the Tofino model / hardware (not run here, see README): that it does not count
// the bridged metadata header; if it does, add BRIDGED_MD_BYTES here.
const bit<16> EGRESS_PKT_LENGTH_OVERHEAD = 4;

#endif  // NVGRE_TNA_ARCH_P4
