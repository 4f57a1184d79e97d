// v1model parser glue: runs the shared parser with the ingress port (packet_out is only
// parsed on CPU_PORT). A parser error is not dropped here: v1model continues into
// ingress with standard_metadata.parser_error set, the headers extracted before it valid and
// the rest as payload; V1Ingress hands it to the shared ingress, which decides (R4).

#ifndef NVGRE_V1MODEL_PARSER_P4
#define NVGRE_V1MODEL_PARSER_P4

parser V1Parser(packet_in pkt, out headers_t hdr, inout local_metadata_t meta,
                inout standard_metadata_t sm) {
    NvgreParser() nvgre_parser;

    state start {
        nvgre_parser.apply(pkt, hdr, sm.ingress_port);
        transition accept;
    }
}

#endif  // NVGRE_V1MODEL_PARSER_P4
