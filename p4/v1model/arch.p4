// v1model / bmv2 architecture glue, part 1: the target's types and constants.
//
// Everything that differs between v1model and a later TNA variant of this program lives
// under p4/v1model/: the port type and the special ports, the clone and digest plumbing,
// the hash and selector externs, standard_metadata, checksum units and the V1Switch
// package. The shared controls in p4/include/ only see headers_t and local_metadata_t.

#ifndef NVGRE_V1MODEL_ARCH_P4
#define NVGRE_V1MODEL_ARCH_P4

#include <v1model.p4>

// bmv2 ports are 9 bits. simple_switch_grpc is started with --cpu-port 510; 511 is the
// port mark_to_drop() sends to.
typedef bit<9> port_num_t;
const port_num_t CPU_PORT = 510;

// Clone session the controller must create (P4Runtime CloneSessionEntry) with one replica
// to CPU_PORT: egress clones MTU punts (R12) into it. The controller may also set
// packet_length_bytes on the session to truncate punts.
const bit<32> CPU_CLONE_SESSION_ID = 511;

// Field list preserved into that clone (ingress port, punt reason, port MTU).
const bit<8> FL_CPU_CLONE = 1;
#define CPU_CLONE_PRESERVED @field_list(FL_CPU_CLONE)

// digest() receiver id; P4Runtime delivers it as the digest named after learn_t.
const bit<32> LEARN_DIGEST_RECEIVER = 1;

// standard_metadata.instance_type of an egress (E2E) clone in simple_switch.
const bit<32> PKT_INSTANCE_TYPE_EGRESS_CLONE = 2;

// ECMP action selector (R9). bmv2 hashes the table's selector key fields in declaration
// order and picks member (hash % group size). crc32, not crc16: CRC-16's polynomial has the
// factor x + 1, so its low bits are tied to the parity of the input, and flows that differ
// only in a few key bits (the FlowID) then use half of a 4-way group.
#define ECMP_SELECTOR(size) action_selector(HashAlgorithm.crc32, size, 32w32)

#endif  // NVGRE_V1MODEL_ARCH_P4
