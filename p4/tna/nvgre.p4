// NVGRE network-virtualization gateway (RFC 7637) for top-of-rack switches: TNA / T2NA top.
//
// The same program as p4/nvgre.p4 (v1model) for Tofino 1 (bf-p4c --target tofino --arch tna)
// and Tofino 2 (--target tofino2 --arch t2na): the shared controls of p4/include where they
// suit Tofino as they are, and TNA versions of the ones that do not (this directory; README
// says which and why). Controller-facing P4Runtime names are those of the v1model program.
// Requirement IDs (R1..R18) refer to shared/nvgre-requirements.md.

#include "arch.p4"

#include "../include/defines.p4"
#include "sizes.p4"
#include "../include/headers.p4"
#include "../include/drop.p4"
#include "bridged.p4"
#include "parser.p4"
#include "../include/packet_io.p4"
#include "../include/port_classification.p4"
#include "tunnel_decap.p4"
#include "../include/vsid.p4"
#include "../include/source_guard.p4"
#include "learning.p4"
#include "../include/arp_nd_responder.p4"
#include "tenant_routing.p4"
#include "hasher.p4"
#include "../include/bridging.p4"
#include "../include/tunnel_encap.p4"
#include "underlay_routing.p4"
#include "../include/egress_replication.p4"
#include "mtu.p4"
#include "../include/ingress.p4"
#include "../include/egress.p4"
#include "../include/deparser.p4"
#include "pipeline.p4"

Pipeline(TnaIngressParser(),
         TnaIngress(),
         TnaIngressDeparser(),
         TnaEgressParser(),
         TnaEgress(),
         TnaEgressDeparser()) pipe;

Switch(pipe) main;
