// Port classification (ingress) and port re-tagging (egress).
//
// Ingress: switch_config (one default entry: encap TTL, VSID 0xFFFFFF punting), then
// port_type (access | fabric; miss = drop), then for access ports (port, VLAN or
// untagged) -> VSID (miss = drop). Any 802.1Q tag is then stripped: on access ports so
// that no tag is ever encapsulated (R5), on fabric ports because the outer VLAN is a
// property of the link and egress re-adds it per port (R7: optional outer VLAN).
// Egress: egress_vlan (port, VSID) -> tag or untagged. Tenant frames to an access port
// need an entry (miss = drop, so a frame never leaves on a port outside its VSID, R18);
// underlay frames use VSID 0 and default to untagged.

#ifndef NVGRE_PORT_CLASSIFICATION_P4
#define NVGRE_PORT_CLASSIFICATION_P4

control PortClassification(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".set_switch_config")
    action set_switch_config(bit<8> encap_ttl, bit<1> punt_vsid_ffffff) {
        meta.encap_ttl = encap_ttl;
        meta.punt_vsid_ffffff = punt_vsid_ffffff;
    }

    // Keyless: the controller writes its default action.
    @name(".switch_config")
    table switch_config {
        actions = { set_switch_config; }
        default_action = set_switch_config(DEFAULT_ENCAP_TTL, 1);
    }

    @name(".set_port_access")
    action set_port_access() {
        meta.port_type = PortType_t.ACCESS;
    }

    @name(".set_port_fabric")
    action set_port_fabric() {
        meta.port_type = PortType_t.FABRIC;
    }

    @name(".port_type")
    table port_type {
        key = {
            meta.ig_port: exact @name("port");
        }
        actions = {
            set_port_access;
            set_port_fabric;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    @name(".set_port_vsid")
    action set_port_vsid(vsid_t vsid) {
        meta.vsid = vsid;
    }

    // Untagged frames: tagged = 0, vlan_id = 0. Priority-tagged frames: tagged = 1, 0.
    @name(".port_vsid")
    table port_vsid {
        key = {
            meta.ig_port:     exact @name("port");
            meta.vlan_tagged: exact @name("tagged");
            meta.vlan_id:     exact @name("vlan_id");
        }
        actions = {
            set_port_vsid;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = PORT_VSID_TABLE_SIZE;
    }

    apply {
        switch_config.apply();
        if (hdr.vlan.isValid()) {
            meta.vlan_tagged = 1;
            meta.vlan_id = hdr.vlan.vlan_id;
        }
        if (!port_type.apply().hit) {
            set_drop(meta, DropReason_t.PORT_UNKNOWN);
        } else if (meta.port_type == PortType_t.ACCESS) {
            if (!port_vsid.apply().hit) {
                set_drop(meta, DropReason_t.PORT_VLAN_UNKNOWN);
            }
        }
        if (meta.to_drop == 0 && hdr.vlan.isValid()) {
            hdr.ethernet.ether_type = hdr.vlan.ether_type;
            hdr.vlan.setInvalid();
            meta.frame_len = meta.frame_len - VLAN_HDR_BYTES;
        }
    }
}

control EgressVlan(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".set_egress_vlan")
    action set_egress_vlan(vlan_id_t vlan_id) {
        meta.eg_vlan_valid = 1;
        meta.eg_vlan = vlan_id;
    }

    @name(".set_egress_untagged")
    action set_egress_untagged() {
        meta.eg_vlan_valid = 0;
    }

    @name(".egress_vlan")
    table egress_vlan {
        key = {
            meta.eg_port:      exact @name("port");
            meta.eg_vlan_vsid: exact @name("vsid");
        }
        actions = {
            set_egress_vlan;
            set_egress_untagged;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = EGRESS_VLAN_TABLE_SIZE;
    }

    apply {
        if (meta.kind == ForwardKind_t.TENANT_LOCAL) {
            meta.eg_vlan_vsid = meta.vsid;
        } else {
            meta.eg_vlan_vsid = VSID_UNDERLAY;
        }
        if (!egress_vlan.apply().hit) {
            if (meta.kind == ForwardKind_t.TENANT_LOCAL) {
                meta.to_drop = 1;
                meta.drop_reason = DropReason_t.EGRESS_VLAN_MISS;
            }
        } else if (meta.eg_vlan_valid == 1) {
            // The tag goes on the outermost Ethernet header.
            if (hdr.tun_ethernet.isValid()) {
                hdr.tun_vlan.setValid();
                hdr.tun_vlan.pcp = 0;
                hdr.tun_vlan.dei = 0;
                hdr.tun_vlan.vlan_id = meta.eg_vlan;
                hdr.tun_vlan.ether_type = hdr.tun_ethernet.ether_type;
                hdr.tun_ethernet.ether_type = ETHERTYPE_VLAN;
            } else {
                hdr.vlan.setValid();
                hdr.vlan.pcp = 0;
                hdr.vlan.dei = 0;
                hdr.vlan.vlan_id = meta.eg_vlan;
                hdr.vlan.ether_type = hdr.ethernet.ether_type;
                hdr.ethernet.ether_type = ETHERTYPE_VLAN;
            }
        }
    }
}

#endif  // NVGRE_PORT_CLASSIFICATION_P4
