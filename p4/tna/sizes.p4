// Table sizes per Tofino generation, replacing the v1model ToR sizes of include/defines.p4
// (which defines them unconditionally, hence the #undef; see README "to do once p4c exists").
//
// Sizing rationale (to be confirmed by bf-p4c's resource report, not run here):
//   Tofino 1: 12 MAU stages, per stage 80 SRAM blocks (1K x 128 b) and 24 TCAM blocks
//             (512 x 44 b). Exact tables keyed by up to ~100 bits take one SRAM word per entry;
//             128-bit keys (IPv6 PAs / CAs) take two, so those tables are halved. Ternary and
//             LPM tables are the scarce part: an entry 44 b wide per TCAM block, so the 211-bit
//             source guard key needs 5 blocks per 512 entries.
//   Tofino 2: 20 MAU stages, same block sizes: about 5/3 of everything.
// ECMP member/group sizes are those of the action selector (R9).

#ifndef NVGRE_TNA_SIZES_P4
#define NVGRE_TNA_SIZES_P4

#undef PORT_VSID_TABLE_SIZE
#undef MY_MAC_TABLE_SIZE
#undef LOCAL_PA_TABLE_SIZE
#undef VSID_TABLE_SIZE
#undef VSID_NVE_TABLE_SIZE
#undef SOURCE_GUARD_TABLE_SIZE
#undef LEARNED_MAC_TABLE_SIZE
#undef ARP_ND_TABLE_SIZE
#undef TENANT_ROUTE_TABLE_SIZE
#undef TENANT_NEXTHOP_TABLE_SIZE
#undef MAC_TABLE_SIZE
#undef NVE_TABLE_SIZE
#undef SRC_PA_TABLE_SIZE
#undef UNDERLAY_ROUTE_TABLE_SIZE
#undef ECMP_GROUP_TABLE_SIZE
#undef ECMP_SELECTOR_SIZE
#undef ECMP_MAX_GROUP_SIZE
#undef REPLICA_TABLE_SIZE
#undef EGRESS_VLAN_TABLE_SIZE

#if __TARGET_TOFINO__ == 2
#define PORT_VSID_TABLE_SIZE       16384
#define MY_MAC_TABLE_SIZE          64
#define LOCAL_PA_TABLE_SIZE        256
#define VSID_TABLE_SIZE            16384    // >= 16K VSIDs (R2); per-VSID counters
#define VSID_NVE_TABLE_SIZE        32768
#define SOURCE_GUARD_TABLE_SIZE    8192     // ternary, 211-bit key: 5 TCAM blocks / 512
#define LEARNED_MAC_TABLE_SIZE     65536
#define ARP_ND_TABLE_SIZE          32768
#define TENANT_ROUTE_TABLE_SIZE    8192     // LPM (TCAM); IPv6: 4 blocks wide
#define TENANT_NEXTHOP_TABLE_SIZE  16384
#define MAC_TABLE_SIZE             65536    // >= 64K MACs
#define NVE_TABLE_SIZE             4096     // >= 4K NVEs
#define SRC_PA_TABLE_SIZE          8192     // ternary (VSID, NVE)
#define UNDERLAY_ROUTE_TABLE_SIZE  16384    // >= 16K underlay routes (per family)
#define ECMP_GROUP_TABLE_SIZE      1024
#define ECMP_SELECTOR_SIZE         4096
#define ECMP_MAX_GROUP_SIZE        64
#define REPLICA_TABLE_SIZE         8192
#define EGRESS_VLAN_TABLE_SIZE     16384
#else
#define PORT_VSID_TABLE_SIZE       8192
#define MY_MAC_TABLE_SIZE          64
#define LOCAL_PA_TABLE_SIZE        256
#define VSID_TABLE_SIZE            16384    // >= 16K VSIDs (R2); per-VSID counters
#define VSID_NVE_TABLE_SIZE        16384
#define SOURCE_GUARD_TABLE_SIZE    4096
#define LEARNED_MAC_TABLE_SIZE     32768
#define ARP_ND_TABLE_SIZE          16384
#define TENANT_ROUTE_TABLE_SIZE    4096
#define TENANT_NEXTHOP_TABLE_SIZE  8192
#define MAC_TABLE_SIZE             65536    // >= 64K MACs
#define NVE_TABLE_SIZE             4096     // >= 4K NVEs
#define SRC_PA_TABLE_SIZE          4096
#define UNDERLAY_ROUTE_TABLE_SIZE  16384    // >= 16K underlay routes (per family)
#define ECMP_GROUP_TABLE_SIZE      1024
#define ECMP_SELECTOR_SIZE         4096
#define ECMP_MAX_GROUP_SIZE        64
#define REPLICA_TABLE_SIZE         4096
#define EGRESS_VLAN_TABLE_SIZE     8192
#endif

#endif  // NVGRE_TNA_SIZES_P4
