// Source validation (R17), per VSID and switched on by the vsid table.
//
// Access side (source_guard = 1): (VSID, ingress port, source MAC, CA family, source CA)
// must match an entry. CA family / CA are ternary, so one entry can admit a MAC on a port
// whatever it sends (both wildcarded), or only with given CAs (family CaFamily_t.IPV4 covers IPv4
// and ARP's sender address; family 0 = neither IP nor ARP). Miss = DropReason_t.SOURCE_GUARD.
// Fabric side (pa_check = 1): the outer source PA of a decapsulated frame must be an NVE
// of its VSID (vsid_nve_v4 / vsid_nve_v6). Miss = DropReason_t.PA_NOT_NVE_OF_VSID.

#ifndef NVGRE_SOURCE_GUARD_P4
#define NVGRE_SOURCE_GUARD_P4

control SourceGuard(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".permit_source")
    action permit_source() { }

    @name(".source_guard")
    table source_guard {
        key = {
            meta.vsid:             exact   @name("vsid");
            meta.ig_port:          exact   @name("port");
            hdr.ethernet.src_addr: exact   @name("src_mac");
            meta.ca_family:        ternary @name("ca_family");
            meta.ca_src:           ternary @name("src_ca");
        }
        actions = {
            permit_source;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = SOURCE_GUARD_TABLE_SIZE;
    }

    @name(".permit_nve")
    action permit_nve() { }

    @name(".vsid_nve_v4")
    table vsid_nve_v4 {
        key = {
            meta.vsid:         exact @name("vsid");
            meta.outer_src_v4: exact @name("pa");
        }
        actions = {
            permit_nve;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = VSID_NVE_TABLE_SIZE;
    }

    @name(".vsid_nve_v6")
    table vsid_nve_v6 {
        key = {
            meta.vsid:         exact @name("vsid");
            meta.outer_src_v6: exact @name("pa");
        }
        actions = {
            permit_nve;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = VSID_NVE_TABLE_SIZE;
    }

    apply {
        if (meta.from_fabric == 0) {
            if (meta.guard_on == 1) {
                if (!source_guard.apply().hit) {
                    set_drop(meta, DropReason_t.SOURCE_GUARD);
                }
            }
        } else if (meta.pa_check_on == 1) {
            if (meta.outer_is_v6 == 0) {
                if (!vsid_nve_v4.apply().hit) {
                    set_drop(meta, DropReason_t.PA_NOT_NVE_OF_VSID);
                }
            } else {
                if (!vsid_nve_v6.apply().hit) {
                    set_drop(meta, DropReason_t.PA_NOT_NVE_OF_VSID);
                }
            }
        }
    }
}

#endif  // NVGRE_SOURCE_GUARD_P4
