// Source MAC learning, TNA: include/learning.p4 with TNA's table property for idle timeouts
// (idle_timeout, v1model's support_timeout); PI on bf_switchd serves it as P4Runtime idle
// timeouts in notify mode.
//
// Source MAC learning.
//
// learned_mac holds every (VSID, MAC, location) the controller knows. An unknown one on
// an access port (when the VSID's learn_local is on) or behind a remote NVE (learn_remote)
// raises the learn_t digest; the arch glue sends it. A MAC seen at a new location (a VM
// that moved) is unknown again, so moves are reported too.
//
// "At most once per entry": the program raises the digest on every miss and relies on the
// target's learning engine to deduplicate: bmv2's LearnEngine drops a sample equal to one
// already sent until the controller acknowledges the digest list, by which time the
// controller has installed the learned_mac entry. Any target running this program must
// filter the same way. Tofino: the deparser's learn filter suppresses repeats only until the
// driver clears it, so a station may be reported more than once before its entry is in; a
// repeat is harmless: the controller ignores a station already learned at that place.

#ifndef NVGRE_TNA_LEARNING_P4
#define NVGRE_TNA_LEARNING_P4

control Learning(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".known_source")
    action known_source() { }

    @name(".learned_mac")
    table learned_mac {
        key = {
            meta.learn.vsid:     exact @name("vsid");
            meta.learn.mac:      exact @name("mac");
            meta.learn.port:     exact @name("port");
            meta.learn.from_nve: exact @name("from_nve");
            meta.learn.pa_is_v6: exact @name("pa_is_v6");
            meta.learn.pa:       exact @name("pa");
        }
        actions = {
            known_source;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = LEARNED_MAC_TABLE_SIZE;
        // Entries of learned stations carry an idle timeout (every match restarts it): one
        // not seen that long is reported to the controller, which ages the station out.
        idle_timeout = true;
    }

    apply {
        // A group source MAC is never a station: not learned.
        if (hdr.ethernet.src_addr[40:40] == 0) {
            bool enabled = false;
            meta.learn.vsid = meta.vsid;
            meta.learn.mac = hdr.ethernet.src_addr;
            if (meta.from_fabric == 1) {
                if (meta.learn_remote == 1) {
                    enabled = true;
                }
                meta.learn.port = 0;
                meta.learn.from_nve = 1;
                meta.learn.pa_is_v6 = meta.outer_is_v6;
                if (meta.outer_is_v6 == 1) {
                    meta.learn.pa = meta.outer_src_v6;
                } else {
                    meta.learn.pa = (bit<128>)meta.outer_src_v4;
                }
            } else {
                if (meta.learn_local == 1) {
                    enabled = true;
                }
                meta.learn.port = meta.ig_port;
                meta.learn.from_nve = 0;
                meta.learn.pa_is_v6 = 0;
                meta.learn.pa = 0;
            }
            if (enabled) {
                if (!learned_mac.apply().hit) {
                    meta.raise_learn = 1;
                }
            }
        }
    }
}

#endif  // NVGRE_TNA_LEARNING_P4
