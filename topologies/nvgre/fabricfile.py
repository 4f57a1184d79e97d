"""The fabric file (YAML) the controller applies, written from the plan.

The format is the controller's (controller/intent/schema.ts, controller/intent/fabric-file.md): switches
with their P4Runtime address, router MAC, provider addresses and ports (access ports with
their VSID, fabric ports with their peer and MTU), tenants, virtual subnets, endpoints (the
VMs and where they are plugged in). Spare ports are access ports prepared for the plan's
spare subnet, so that moving a VM onto one is only a change of its endpoint's location (what
`nvgre-ctl endpoint move` does). A link that is down is left out, so the controller routes
the underlay around it. The underlay's routes and ECMP groups are not written:
the controller derives them from the fabric ports' peers.
"""

import yaml

from . import plan as fabric_plan


def _hex(vsid):
    # Written as a hex string: that is how operators read VSIDs.
    return '0x%X' % vsid


def _prefix_length(cidr):
    return cidr.split('/')[1]


def _switch(plan, switch, address):
    ports = []
    if switch.role == 'leaf':
        for vm in sorted((v for v in plan.vms if v.leaf == switch.name), key=lambda v: v.port):
            ports.append({'port': vm.port, 'kind': 'access', 'description': vm.name,
                          'untagged': _hex(plan.subnet(vm.subnet).vsid)})
        if plan.spare_subnet:
            for port in switch.spare_ports:
                ports.append({'port': port, 'kind': 'access',
                              'description': 'spare: a %s VM may migrate here' % plan.spare_subnet,
                              'untagged': _hex(plan.subnet(plan.spare_subnet).vsid)})
        ports.sort(key=lambda p: p['port'])
    for link in (l for l in plan.links if l.up):
        for here, here_port, there, there_port in ((link.a, link.a_port, link.b, link.b_port),
                                                   (link.b, link.b_port, link.a, link.a_port)):
            if here == switch.name:
                ports.append({'port': here_port, 'kind': 'fabric', 'mtu': fabric_plan.FABRIC_MTU,
                              'peer': {'switch': there, 'port': there_port}})
    doc = {
        'name': switch.name,
        'role': switch.role,
        'p4runtime': {'address': address, 'deviceId': switch.device_id},
        'routerMac': switch.router_mac,
    }
    pas = [pa for pa in (switch.pa_v4, switch.pa_v6) if pa]
    if pas:
        doc['providerAddresses'] = pas
    doc['ports'] = ports
    return doc


def _subnet(subnet):
    doc = {'vsid': _hex(subnet.vsid), 'name': subnet.name, 'tenant': subnet.tenant}
    if subnet.gateway_mac:
        ips = ['%s/%s' % (subnet.gateway_v4, _prefix_length(subnet.ipv4))]
        if subnet.gateway_v6:
            ips.append('%s/%s' % (subnet.gateway_v6, _prefix_length(subnet.ipv6)))
        doc['gateway'] = {'mac': subnet.gateway_mac, 'ips': ips}
    return doc


def _endpoint(plan, vm):
    ips = [fabric_plan.address(vm.ipv4)]
    if vm.ipv6:
        ips.append(fabric_plan.address(vm.ipv6))
    return {'name': vm.name, 'vsid': _hex(plan.subnet(vm.subnet).vsid), 'mac': vm.mac,
            'ips': ips, 'location': {'switch': vm.leaf, 'port': vm.port}}


def fabric_file_yaml(plan, description=None):
    """The fabric file of the plan. `description` (a running fabric's describe()) gives the
    switches' P4Runtime addresses; without it they are the defaults a fixed-port deployment
    would use (127.0.0.1:9559 + device id), for reading or validating the file."""
    addresses = {}
    if description:
        addresses = {s['name']: s['grpc_address'] for s in description['switches']}
    doc = {
        'version': 1,
        'name': 'leaf-spine %d×%d' % (len(plan.spines), len(plan.leaves)),
        'switches': [_switch(plan, s, addresses.get(s.name, '127.0.0.1:%d' % (9559 + s.device_id)))
                     for s in plan.switches],
        'tenants': [{'name': t} for t in plan.tenants()],
        'virtualSubnets': [_subnet(s) for s in plan.subnets],
        'endpoints': [_endpoint(plan, v) for v in plan.vms],
    }
    header = ('# NVGRE fabric written by topologies/fabric.py from the Mininet plan it runs;\n'
              '# edit the plan (topologies/nvgre/plan.py), not this file.\n')
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
