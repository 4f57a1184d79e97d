// Tenant routing between virtual subnets of one tenant (R14), TNA: include/tenant_routing.p4
// with the IPv4 TTL decremented without the in-action incremental checksum; the ingress
// deparser recomputes the header checksum of routed IPv4 (frames with options are not routed
// on Tofino: ingress drops them, see parser.p4).
//
// A frame to its VSID's gateway MAC is routed in the VSID's routing domain: LPM on the
// destination CA (tenant_route_v4 / tenant_route_v6, keyed by the vrf_id the vsid table
// gave the INGRESS VSID, never by anything the frame carries, so a route can only lead to
// what the controller put in that tenant's domain: R18). The next hop names the
// destination VSID (with its counter index), the gateway MAC of that VSID as new source
// MAC, and the destination MAC: an endpoint (host route) or a gateway NVE's MAC for a
// default route toward a VPN / Internet gateway. Bridging then looks the destination MAC
// up in the destination VSID (local port or remote NVE). TTL / hop limit is decremented;
// an expired one is dropped.

#ifndef NVGRE_TNA_TENANT_ROUTING_P4
#define NVGRE_TNA_TENANT_ROUTING_P4

control TenantRouting(inout headers_t hdr, inout local_metadata_t meta) {

    @name(".set_tenant_nexthop")
    action set_tenant_nexthop(tenant_nh_t nexthop_id) {
        meta.tenant_nh = nexthop_id;
    }

    @name(".tenant_route_v4")
    table tenant_route_v4 {
        key = {
            meta.vrf_id:       exact @name("vrf_id");
            hdr.ipv4.dst_addr: lpm   @name("dst_ca");
        }
        actions = {
            set_tenant_nexthop;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = TENANT_ROUTE_TABLE_SIZE;
    }

    @name(".tenant_route_v6")
    table tenant_route_v6 {
        key = {
            meta.vrf_id:       exact @name("vrf_id");
            hdr.ipv6.dst_addr: lpm   @name("dst_ca");
        }
        actions = {
            set_tenant_nexthop;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = TENANT_ROUTE_TABLE_SIZE;
    }

    @name(".tenant_forward")
    action tenant_forward(vsid_t vsid, vsid_index_t vsid_index, mac_addr_t smac, mac_addr_t dmac) {
        meta.vsid = vsid;
        meta.vsid_index = vsid_index;
        hdr.ethernet.src_addr = smac;
        hdr.ethernet.dst_addr = dmac;
        meta.routed = 1;
    }

    @name(".tenant_nexthop")
    table tenant_nexthop {
        key = {
            meta.tenant_nh: exact @name("nexthop_id");
        }
        actions = {
            tenant_forward;
            @defaultonly NoAction;
        }
        const default_action = NoAction();
        size = TENANT_NEXTHOP_TABLE_SIZE;
    }

    @hidden
    action ipv4_ttl_decrement() {
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }

    apply {
        if (meta.gw_mac != 0 && hdr.ethernet.dst_addr == meta.gw_mac) {
            bool route_hit = false;
            if (meta.l3_unparsed == 1) {
                // Routing reads and rewrites L3: it needs the header whole (R4).
                set_drop(meta, DropReason_t.PARSER_ERROR);
            } else if (hdr.ipv4.isValid()) {
                if (hdr.ipv4.ttl <= 1) {
                    set_drop(meta, DropReason_t.TENANT_TTL_EXPIRED);
                } else {
                    route_hit = tenant_route_v4.apply().hit;
                }
            } else if (hdr.ipv6.isValid()) {
                if (hdr.ipv6.hop_limit <= 1) {
                    set_drop(meta, DropReason_t.TENANT_TTL_EXPIRED);
                } else {
                    route_hit = tenant_route_v6.apply().hit;
                }
            }
            if (meta.to_drop == 0) {
                if (!route_hit) {
                    // Includes frames to the gateway MAC that are not IP.
                    set_drop(meta, DropReason_t.TENANT_ROUTE_MISS);
                } else if (!tenant_nexthop.apply().hit) {
                    set_drop(meta, DropReason_t.TENANT_ROUTE_MISS);
                } else if (hdr.ipv4.isValid()) {
                    ipv4_ttl_decrement();
                } else {
                    hdr.ipv6.hop_limit = hdr.ipv6.hop_limit - 1;
                }
            }
        }
    }
}

#endif  // NVGRE_TNA_TENANT_ROUTING_P4
