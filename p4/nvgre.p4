// NVGRE network-virtualization gateway (RFC 7637) for top-of-rack switches: v1model top.
//
// The program proper is architecture-neutral and lives in include/, one control per
// concern; v1model/ holds what is specific to v1model / bmv2 (types and special ports,
// flow hash, parser and checksum glue, counters, digest, clone). A TNA variant provides
// its own arch directory and top file and reuses include/.
// Requirement IDs (R1..R18) refer to shared/nvgre-requirements.md.

#include <core.p4>
#include "v1model/arch.p4"

#include "include/defines.p4"
#include "include/headers.p4"
#include "include/drop.p4"
#include "include/parser.p4"
#include "include/packet_io.p4"
#include "include/port_classification.p4"
#include "include/tunnel_decap.p4"
#include "include/vsid.p4"
#include "include/source_guard.p4"
#include "include/learning.p4"
#include "include/arp_nd_responder.p4"
#include "include/tenant_routing.p4"
#include "v1model/hasher.p4"
#include "include/bridging.p4"
#include "include/tunnel_encap.p4"
#include "include/underlay_routing.p4"
#include "include/egress_replication.p4"
#include "include/mtu.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/deparser.p4"

#include "v1model/parser.p4"
#include "v1model/checksums.p4"
#include "v1model/pipeline.p4"

V1Switch(V1Parser(),
         V1VerifyChecksum(),
         V1Ingress(),
         V1Egress(),
         V1ComputeChecksum(),
         NvgreDeparser()) main;
