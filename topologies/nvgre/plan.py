"""The leaf-spine fabric as data: switches, links, tenants, virtual subnets and VMs.

One plan feeds both the Mininet network (network.py) and the fabric file the controller
applies (fabricfile.py), so what is wired and what is configured cannot drift apart. This
module needs neither root nor Mininet: `fabric.py write` prints the fabric file anywhere.

The default plan (2 spines, 3 leaves) shows what the product does:
  - two tenants, blue and red, with the same CA addresses and the same VM MACs (R18);
  - blue has two virtual subnets, web (0x5001) and db (0x5002), routed through the gateway
    MAC of each VSID (R14); red has one (0x6001);
  - blue-web VMs also have IPv6 CAs (IPv6 overlay, R13);
  - leaf1 and leaf2 have an IPv4 and an IPv6 PA, the last leaf only an IPv6 PA, so tunnels to
    and from it run over an IPv6 underlay while leaf1-leaf2 tunnels use IPv4 (R13, R8);
  - spines run the same program as transit routers of the underlay (ECMP over both, R9);
  - every leaf has spare access ports, prepared for blue-web, where a VM can be live-migrated.
"""

from dataclasses import dataclass, field
import ipaddress

# A ToR's front panel: access ports from 1, uplinks from 49 (as on a 48+6-port leaf).
FIRST_ACCESS_PORT = 1
FIRST_UPLINK_PORT = 49
# Underlay MTU on switch-to-switch links: jumbo, so that tenant frames of 1500 bytes fit
# after NVGRE's 42 (IPv4) or 62 (IPv6) bytes, as in a real overlay fabric. VMs keep 1500.
FABRIC_MTU = 9000
VM_MTU = 1500


@dataclass
class Switch:
    name: str
    role: str              # 'leaf' (an NVE) or 'spine' (underlay transit)
    index: int             # 1-based within its role
    device_id: int
    router_mac: str
    pa_v4: str = None      # leaves: provider addresses (R8: one of each family at most here)
    pa_v6: str = None
    spare_ports: list = field(default_factory=list)

    @property
    def short(self):
        return '%s%d' % (self.role[0], self.index)


@dataclass
class Link:
    """A switch-to-switch (underlay) link."""
    a: str
    a_port: int
    b: str
    b_port: int
    up: bool = True


@dataclass
class Subnet:
    """A virtual subnet (one VSID) of a tenant."""
    name: str
    tenant: str
    vsid: int
    ipv4: str                  # CA prefix
    gateway_v4: str = None     # gateway address (tenant routing, R14)
    ipv6: str = None
    gateway_v6: str = None
    gateway_mac: str = None


@dataclass
class Vm:
    name: str
    subnet: str
    mac: str
    ipv4: str                  # CA with prefix length
    ipv6: str = None
    leaf: str = None
    port: int = None


@dataclass
class BaselinePath:
    """A plain L2 path between two VMs' second vNICs (eth1) through a chain of switches
    running a plain L2 P4 program (test/fixtures/p4/l2_switch.p4), as many switches as the
    NVGRE path leaf-spine-leaf crosses: the benchmark's baseline on the same target."""
    a: str
    b: str
    switches: list
    mac_a: str = '02:00:00:77:00:01'
    mac_b: str = '02:00:00:77:00:02'
    ipv4_a: str = '192.168.77.1/24'
    ipv4_b: str = '192.168.77.2/24'


@dataclass
class Plan:
    switches: list
    links: list
    subnets: list
    vms: list
    #: The virtual subnet spare access ports are prepared for (untagged), as a hypervisor's
    #: port is before a VM of that subnet migrates onto it.
    spare_subnet: str = None
    baseline: BaselinePath = None

    def switch(self, name):
        return next(s for s in self.switches if s.name == name)

    def subnet(self, name):
        return next(s for s in self.subnets if s.name == name)

    def vm(self, name):
        return next(v for v in self.vms if v.name == name)

    @property
    def leaves(self):
        return [s for s in self.switches if s.role == 'leaf']

    @property
    def spines(self):
        return [s for s in self.switches if s.role == 'spine']

    def tenants(self):
        return sorted({s.tenant for s in self.subnets})


def _mac(*octets):
    return ':'.join('%02x' % o for o in octets)


def leaf_spine(spines=2, leaves=3, spare_ports=1):
    """The default demo fabric; any spines >= 1 and leaves >= 2."""
    if spines < 1 or spines > 6:
        raise ValueError('spines must be 1..6 (uplink ports 49..54), got %d' % spines)
    if leaves < 2 or leaves > 48:
        raise ValueError('leaves must be 2..48, got %d' % leaves)
    switches = []
    for i in range(1, spines + 1):
        switches.append(Switch('spine%d' % i, 'spine', i, device_id=100 + i,
                               router_mac=_mac(0x02, 0x53, 0, 0, 0, i)))
    for i in range(1, leaves + 1):
        last = i == leaves
        switches.append(Switch(
            'leaf%d' % i, 'leaf', i, device_id=i, router_mac=_mac(0x02, 0x4c, 0, 0, 0, i),
            # The last leaf has only an IPv6 PA: its tunnels run over an IPv6 underlay.
            pa_v4=None if last else '10.255.0.%d' % i,
            pa_v6='2001:db8:ff::%x' % i))
    links = []
    for leaf in (s for s in switches if s.role == 'leaf'):
        for spine in (s for s in switches if s.role == 'spine'):
            links.append(Link(leaf.name, FIRST_UPLINK_PORT + spine.index - 1,
                              spine.name, leaf.index))

    subnets = [
        Subnet('blue-web', 'blue', 0x5001, '10.1.1.0/24', '10.1.1.1',
               'fd00:b1:1::/64', 'fd00:b1:1::1', _mac(0x02, 0xb1, 0x00, 0x00, 0x50, 0x01)),
        Subnet('blue-db', 'blue', 0x5002, '10.1.2.0/24', '10.1.2.1',
               gateway_mac=_mac(0x02, 0xb1, 0x00, 0x00, 0x50, 0x02)),
        # Red reuses blue-web's CA prefix (IPv4 and IPv6) and its VMs reuse blue's MACs.
        Subnet('red-web', 'red', 0x6001, '10.1.1.0/24', ipv6='fd00:b1:1::/64'),
    ]
    vms = []
    for i in range(1, leaves + 1):
        mac = _mac(0x02, 0x00, 0x00, 0x00, 0x01, 0x10 + i)
        for tenant in ('blue', 'red'):
            vms.append(Vm('%s-web%d' % (tenant, i), '%s-web' % tenant, mac,
                          '10.1.1.%d/24' % (10 + i), 'fd00:b1:1::%x/64' % (0x10 + i),
                          leaf='leaf%d' % i))
    vms.append(Vm('blue-db1', 'blue-db', _mac(0x02, 0x00, 0x00, 0x00, 0x02, 0x11),
                  '10.1.2.11/24', leaf='leaf%d' % leaves))
    plan = Plan(switches, links, subnets, vms, spare_subnet='blue-web')
    _assign_ports(plan, spare_ports)
    return plan


def _assign_ports(plan, spare_ports):
    for leaf in plan.leaves:
        port = FIRST_ACCESS_PORT
        for vm in (v for v in plan.vms if v.leaf == leaf.name):
            vm.port = port
            port += 1
        leaf.spare_ports = list(range(port, port + spare_ports))
        if leaf.spare_ports and leaf.spare_ports[-1] >= FIRST_UPLINK_PORT:
            raise ValueError('%s: more than %d access ports' % (leaf.name,
                                                                FIRST_UPLINK_PORT - 1))


def address(cidr):
    return str(ipaddress.ip_interface(cidr).ip)


def add_baseline_path(plan, a='blue-web1', b='blue-web2', hops=3):
    """Adds the plain L2 baseline between VMs a and b (not part of the fabric file: the
    NVGRE controller does not manage it; the benchmark programs it)."""
    switches = [Switch('base%d' % i, 'baseline', i, device_id=200 + i,
                       router_mac=_mac(0x02, 0x42, 0, 0, 0, i)) for i in range(1, hops + 1)]
    plan.baseline = BaselinePath(plan.vm(a).name, plan.vm(b).name, switches)
    return plan
