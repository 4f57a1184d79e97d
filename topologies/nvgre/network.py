"""The Mininet network of a plan: P4Runtime switches in the root namespace, VMs as hosts.

Interface names in the root namespace carry the run's tag (`n1a2b-l1-49`), so fabrics of
concurrent runs never collide, and every one is recorded in the run's registry. VMs get their
MAC, CAs, gateway routes and a 1500-byte MTU; their ARP and Neighbor Discovery are answered
by their leaf (R16), so nothing is preconfigured in them. Each leaf's spare access ports end
in a parked veth in the root namespace, down, until a VM is migrated onto it.
"""

import json
import subprocess

from mininet.link import Intf
from mininet.log import info
from mininet.net import Mininet
from mininet.node import Host

from . import plan as fabric_plan
from .fabricfile import fabric_file_yaml
from .switches import TARGETS, disable_offloads, quiet_interface


class FabricError(Exception):
    """A fabric operation that cannot be done; the message names what and why."""


def _ip(*args, check=True):
    result = subprocess.run(['ip'] + list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise FabricError('ip %s: %s' % (' '.join(args), result.stderr.strip()))
    return result


class VmHost(Host):
    """A tenant VM: one vNIC (eth0), offloads off (the switch sees whole frames), the kernel
    announcing itself (gratuitous ARP, unsolicited NA) whenever the vNIC comes up, as a
    hypervisor does after a live migration."""

    def run(self, command):
        """Runs a shell command in the VM; raises FabricError with its output on failure."""
        output = self.cmd(command + ' ; echo "rc=$?"')
        body, _, status = output.rstrip().rpartition('rc=')
        if status.strip() != '0':
            raise FabricError('%s: `%s` failed: %s' % (self.name, command, body.strip()))
        return body

    def configure(self, vm, subnet):
        self.run('sysctl -qw net.ipv4.conf.all.arp_notify=1 net.ipv4.conf.default.arp_notify=1')
        if vm.ipv6:
            self.run('sysctl -qw net.ipv6.conf.all.ndisc_notify=1 '
                     'net.ipv6.conf.default.ndisc_notify=1')
        else:
            self.run('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 '
                     'net.ipv6.conf.default.disable_ipv6=1')
        disable_offloads('eth0', run=lambda argv, **_: self.cmd(' '.join(argv)))
        self.bring_up(vm, subnet)

    def configure_baseline(self, mac, ipv4, peer_mac, peer_ipv4):
        """The second vNIC, on the plain L2 baseline path. That program does not flood, so
        the peer's address is resolved statically."""
        disable_offloads('eth1', run=lambda argv, **_: self.cmd(' '.join(argv)))
        self.run('ip link set eth1 down && ip link set eth1 address %s mtu %d'
                 % (mac, fabric_plan.VM_MTU))
        self.run('ip addr replace %s dev eth1 && ip link set eth1 up' % ipv4)
        self.run('ip neigh replace %s lladdr %s dev eth1 nud permanent'
                 % (fabric_plan.address(peer_ipv4), peer_mac))

    def neighbours(self):
        """(address, MAC) of the resolved entries of eth0's neighbour cache."""
        entries = json.loads(self.run('ip -j neigh show dev eth0') or '[]')
        return [(e['dst'], e['lladdr']) for e in entries
                if e.get('lladdr') and not set(e.get('state', [])) & {'FAILED', 'INCOMPLETE'}]

    def restore_neighbours(self, neighbours):
        for address, mac in neighbours:
            # STALE: used at once, confirmed by the kernel later, as after any cache entry ages.
            self.run('ip neigh replace %s lladdr %s dev eth0 nud stale' % (address, mac))

    def bring_up(self, vm, subnet):
        """MAC, addresses and routes on eth0 (lost whenever the vNIC changes namespace). The
        MAC is set while the vNIC is down so that its IPv6 link-local address derives from it."""
        self.run('ip link set eth0 down')
        self.run('ip link set eth0 address %s mtu %d' % (vm.mac, fabric_plan.VM_MTU))
        self.run('ip addr replace %s dev eth0' % vm.ipv4)
        if vm.ipv6:
            self.run('ip -6 addr replace %s dev eth0 nodad' % vm.ipv6)
        self.run('ip link set eth0 up')
        if subnet.gateway_v4:
            self.run('ip route replace default via %s dev eth0' % subnet.gateway_v4)
        if vm.ipv6 and subnet.gateway_v6:
            self.run('ip -6 route replace default via %s dev eth0' % subnet.gateway_v6)


class Fabric:
    """A running fabric: the plan, the Mininet network, the run directory."""

    def __init__(self, plan, target, run_dir, log_level='warn', pcap_dir=None):
        if target not in TARGETS:
            raise FabricError('unknown switch target %r (one of %s)'
                              % (target, ', '.join(TARGETS)))
        self.plan = plan
        self.target = target
        self.run_dir = run_dir
        self.net = Mininet(controller=None, build=False, autoSetMacs=False,
                           autoStaticArp=False)
        switch_cls = TARGETS[target]
        for switch in plan.switches:
            self.net.addSwitch(switch.name, cls=switch_cls, dpid='%x' % switch.device_id,
                               device_id=switch.device_id, run_dir=run_dir,
                               log_level=log_level, pcap_dir=pcap_dir)
        for vm in plan.vms:
            self.net.addHost(vm.name, cls=VmHost, ip=None)
            leaf = plan.switch(vm.leaf)
            self._record_link(self.net.addLink(
                vm.name, leaf.name, port2=vm.port, intfName1='eth0',
                intfName2=self.port_name(leaf, vm.port)))
        baseline = plan.baseline
        if baseline:
            for switch in baseline.switches:
                self.net.addSwitch(switch.name, cls=switch_cls, dpid='%x' % switch.device_id,
                                   device_id=switch.device_id, run_dir=run_dir,
                                   log_level=log_level, pcap_dir=pcap_dir)
            first, last = baseline.switches[0], baseline.switches[-1]
            for vm, switch in ((baseline.a, first), (baseline.b, last)):
                port = 1 if switch is first else 2
                self._record_link(self.net.addLink(
                    vm, switch.name, port2=port, intfName1='eth1',
                    intfName2=self.port_name(switch, port)))
        self.started = False
        self.fabric_file = run_dir.file('fabric.yaml')

    def write_fabric_file(self):
        """(Re)writes the fabric file from the plan: after a migration or a link change the
        intent follows what is wired, and the controller converges the switches to it."""
        with open(self.fabric_file, 'w') as out:
            out.write(fabric_file_yaml(self.plan, self.describe()))

    def port_name(self, switch, port):
        return '%s-%s-%d' % (self.run_dir.tag, switch.short, port)

    def parked_name(self, switch, port):
        """The VM-side end of a spare access port while no VM uses it."""
        return self.port_name(switch, port) + 'v'

    def _record_link(self, link):
        for intf in (link.intf1, link.intf2):
            if intf.name != 'eth0':
                self.run_dir.record_interface(intf.name)
        return link

    def start(self):
        """Builds the network, starts the switches (each waits for its gRPC port) and
        configures the VMs; the switches have no program until the controller pushes one."""
        self.net.build()
        # Mininet's shells: one per VM (its namespace lives as long as it does) and one per
        # switch (in the root namespace).
        for node in self.net.hosts + self.net.switches:
            self.run_dir.record_process('mininet:%s' % node.name, node.pid)
        for index, link in enumerate(self._wired_links(), 1):
            self._add_wire(index, link)
        for leaf in self.plan.leaves:
            for port in leaf.spare_ports:
                self._add_spare_port(leaf, port)
        info('*** Starting %d %s switches\n' % (len(self.plan.switches), self.target))
        self.net.start()
        self.started = True
        for vm in self.plan.vms:
            self.net.get(vm.name).configure(vm, self.plan.subnet(vm.subnet))
        baseline = self.plan.baseline
        if baseline:
            self.net.get(baseline.a).configure_baseline(baseline.mac_a, baseline.ipv4_a,
                                                        baseline.mac_b, baseline.ipv4_b)
            self.net.get(baseline.b).configure_baseline(baseline.mac_b, baseline.ipv4_b,
                                                        baseline.mac_a, baseline.ipv4_a)
        info('\n')

    def _wired_links(self):
        """Switch-to-switch links: the fabric's, then the baseline chain's."""
        links = list(self.plan.links)
        if self.plan.baseline:
            chain = self.plan.baseline.switches
            links += [fabric_plan.Link(x.name, 2, y.name, 1) for x, y in zip(chain, chain[1:])]
        return links

    def _switch_spec(self, name):
        baseline = self.plan.baseline.switches if self.plan.baseline else []
        return next(s for s in self.plan.switches + baseline if s.name == name)

    def wire_name(self, index):
        return '%s-w%d' % (self.run_dir.tag, index)

    def _add_wire(self, index, link):
        """A switch-to-switch link: each switch port is a veth whose peer ("w" end) sits on a
        Linux bridge between them. Pulling the cable takes the w ends down: both switch ports
        lose carrier but stay up, as on real hardware (bmv2 stops reading every port once one
        of its interfaces is set administratively down, so the switch ports never are)."""
        bridge = self.wire_name(index)
        _ip('link', 'add', bridge, 'mtu', str(fabric_plan.FABRIC_MTU), 'type', 'bridge',
            'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0')
        self.run_dir.record_interface(bridge)
        quiet_interface(bridge)
        for name, port in ((link.a, link.a_port), (link.b, link.b_port)):
            switch = self._switch_spec(name)
            end = self.port_name(switch, port)
            _ip('link', 'add', end, 'mtu', str(fabric_plan.FABRIC_MTU), 'type', 'veth',
                'peer', 'name', end + 'w', 'mtu', str(fabric_plan.FABRIC_MTU))
            self.run_dir.record_interface(end)
            quiet_interface(end + 'w')
            _ip('link', 'set', end + 'w', 'master', bridge, 'up')
            _ip('link', 'set', end, 'up')
            Intf(end, node=self.net.get(name), port=port)
        _ip('link', 'set', bridge, 'up')

    def _add_spare_port(self, leaf, port):
        name, parked = self.port_name(leaf, port), self.parked_name(leaf, port)
        _ip('link', 'add', name, 'type', 'veth', 'peer', 'name', parked)
        self.run_dir.record_interface(name)
        self._park(parked)
        _ip('link', 'set', name, 'up')
        Intf(name, node=self.net.get(leaf.name), port=port)

    @staticmethod
    def _park(name):
        _ip('link', 'set', name, 'down')
        quiet_interface(name)

    def switch(self, name):
        node = self.net.get(name)
        if node is None or name not in (s.name for s in self.plan.switches):
            raise FabricError('no switch named %r' % name)
        return node

    def vm_host(self, name):
        if name not in (v.name for v in self.plan.vms):
            raise FabricError('no VM named %r' % name)
        return self.net.get(name)

    def move_vm(self, name, to_leaf):
        """Live-migrates a VM to a free spare port of another leaf: its vNIC leaves the old
        access port (which is parked, free for a later move) and comes up, same MAC and CAs,
        on the new one; the VM's processes keep running and the kernel announces the VM at
        its new place (gratuitous ARP, unsolicited NA). Returns the new (leaf, port)."""
        vm = self.plan.vm(name)
        target = self.plan.switch(to_leaf) if to_leaf in (l.name for l in self.plan.leaves) \
            else None
        if target is None:
            raise FabricError('no leaf named %r' % to_leaf)
        if target.name == vm.leaf:
            raise FabricError('%s is already on %s' % (name, to_leaf))
        if not target.spare_ports:
            raise FabricError('%s has no free spare port for %s' % (to_leaf, name))
        host = self.vm_host(name)
        old_leaf = self.plan.switch(vm.leaf)
        new_port = target.spare_ports.pop(0)
        old_parked = self.parked_name(old_leaf, vm.port)
        new_vnic = self.parked_name(target, new_port)
        # The old vNIC is renamed to its parked name, handed back to the root namespace, and
        # the new one takes its place as eth0; addresses and routes follow.
        # A migrated VM keeps its memory, its neighbour cache included: carried over below, or
        # the VM would have to re-resolve its peers on the new leaf before the controller has
        # admitted it there, and wait out ARP's retransmission timer.
        neighbours = host.neighbours()
        host.run('ip link set eth0 down && ip link set eth0 name %s && ip link set %s netns 1'
                 % (old_parked, old_parked))
        self._park(old_parked)
        _ip('link', 'set', new_vnic, 'netns', str(host.pid))
        host.run('ip link set %s name eth0' % new_vnic)
        disable_offloads('eth0', run=lambda argv, **_: host.cmd(' '.join(argv)))
        host.bring_up(vm, self.plan.subnet(vm.subnet))
        host.restore_neighbours(neighbours)
        old_leaf.spare_ports.append(vm.port)
        old_leaf.spare_ports.sort()
        vm.leaf, vm.port = target.name, new_port
        self.write_fabric_file()
        return target.name, new_port

    def set_link(self, a, b, up):
        """Takes a switch-to-switch link down or up (both ends, as a cable pull would)."""
        link = next((l for l in self.plan.links if {l.a, l.b} == {a, b}), None)
        if link is None:
            raise FabricError('no link between %r and %r' % (a, b))
        for switch, port in ((link.a, link.a_port), (link.b, link.b_port)):
            _ip('link', 'set', self.port_name(self.plan.switch(switch), port) + 'w',
                'up' if up else 'down')
        link.up = up
        self.write_fabric_file()

    def restart_switch(self, name):
        """Kills a switch process and starts a fresh one, same ports and gRPC address, no
        program and no state: the controller must notice and reprogram it."""
        self.switch(name).restart()

    def stop(self):
        if self.started or self.net.built:
            self.net.stop()
        self.started = False
        for leaf in self.plan.leaves:
            for port in leaf.spare_ports + [v.port for v in self.plan.vms if v.leaf == leaf.name]:
                for name in (self.port_name(leaf, port), self.parked_name(leaf, port)):
                    _ip('link', 'del', name, check=False)
        for index, link in enumerate(self._wired_links(), 1):
            _ip('link', 'del', self.wire_name(index), check=False)
            for name, port in ((link.a, link.a_port), (link.b, link.b_port)):
                _ip('link', 'del', self.port_name(self._switch_spec(name), port), check=False)

    def describe(self):
        """What a driver (the demo, tests) needs: switches with their P4Runtime addresses,
        VMs with their namespace (shell pid), place and addresses, links, the run dir."""
        plan = self.plan
        return {
            'target': self.target,
            'run_dir': self.run_dir.path,
            'fabric_file': self.fabric_file,
            'switches': [dict(self.switch(s.name).describe(), role=s.role,
                              router_mac=s.router_mac, pa_v4=s.pa_v4, pa_v6=s.pa_v6,
                              spare_ports=list(s.spare_ports))
                         for s in plan.switches],
            'links': [{'a': l.a, 'a_port': l.a_port, 'b': l.b, 'b_port': l.b_port, 'up': l.up,
                       'a_interface': self.port_name(plan.switch(l.a), l.a_port),
                       'b_interface': self.port_name(plan.switch(l.b), l.b_port)}
                      for l in plan.links],
            'subnets': [{'name': s.name, 'tenant': s.tenant, 'vsid': s.vsid, 'ipv4': s.ipv4,
                         'ipv6': s.ipv6, 'gateway_v4': s.gateway_v4,
                         'gateway_v6': s.gateway_v6, 'gateway_mac': s.gateway_mac}
                        for s in plan.subnets],
            'baseline': self._describe_baseline(),
            'vms': [{'name': v.name, 'tenant': plan.subnet(v.subnet).tenant,
                     'subnet': v.subnet, 'vsid': plan.subnet(v.subnet).vsid, 'mac': v.mac,
                     'ipv4': v.ipv4, 'ipv6': v.ipv6, 'leaf': v.leaf, 'port': v.port,
                     'pid': self.net.get(v.name).pid}
                    for v in plan.vms],
        }

    def _describe_baseline(self):
        baseline = self.plan.baseline
        if not baseline:
            return None
        return {
            'switches': [dict(self.net.get(s.name).describe(), role=s.role)
                         for s in baseline.switches],
            'a': {'vm': baseline.a, 'mac': baseline.mac_a, 'ipv4': baseline.ipv4_a},
            'b': {'vm': baseline.b, 'mac': baseline.mac_b, 'ipv4': baseline.ipv4_b},
        }
