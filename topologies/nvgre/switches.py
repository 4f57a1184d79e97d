"""P4Runtime switches for Mininet: bmv2's simple_switch_grpc and our softswitch.

Like Mininet's own switches they run in the root network namespace; hosts (tenant VMs) have
their own. A switch is started with its device id, a P4Runtime (gRPC) address on loopback,
CPU port 510 (the one p4/v1model/arch.p4 expects) and its ports as `-i N@interface`, without
a program: the controller pushes the pipeline over P4Runtime, as it would to a real switch.
Its log goes to the run directory. start() returns once the gRPC port accepts connections;
stop() ends the process (SIGTERM, then SIGKILL) and reaps it.
"""

import ctypes
import functools
import os
import signal
import socket
import subprocess
import time

from mininet.log import debug, info
from mininet.node import Switch

from .rundir import stop_process

CPU_PORT = 510
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    """Runs in the child before exec: the kernel sends it SIGTERM when our process dies, so a
    killed fabric run never leaves a switch behind. Also ignores the terminal's SIGINT (the
    child gets its own session), so Ctrl-C reaches only us and we tear down in order."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SwitchStartError(Exception):
    """A switch process did not come up; carries the switch's name and the tail of its log."""

    def __init__(self, switch, reason, log_path):
        tail = ''
        try:
            with open(log_path, errors='replace') as log:
                tail = ''.join(log.readlines()[-20:])
        except OSError:
            pass
        super().__init__('%s: %s (log %s)%s' % (switch, reason, log_path,
                                                 '\n' + tail if tail else ''))


def free_loopback_port():
    """A TCP port free on loopback right now (the switch binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@functools.lru_cache(maxsize=None)
def bmv2_has_thrift(binary):
    """Whether this bmv2 build takes --thrift-port (it is built with Thrift)."""
    result = subprocess.run([binary, '--help'], capture_output=True, text=True, check=False)
    return '--thrift-port' in result.stdout + result.stderr


def port_answers(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False


def quiet_interface(name):
    """Prepares a root-namespace switch port: the kernel must not talk on it (no IPv6
    autoconfiguration, router or MLD solicitations) and must hand the switch whole, checksummed
    frames (no segmentation or checksum offload, which a userspace switch cannot see through)."""
    subprocess.run(['sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % name], check=True)
    disable_offloads(name)


def disable_offloads(name, run=subprocess.run):
    run(['ethtool', '-K', name, 'rx', 'off', 'tx', 'off', 'sg', 'off', 'tso', 'off',
         'gso', 'off', 'gro', 'off'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class P4RuntimeSwitch(Switch):
    """A P4Runtime switch process; subclasses give its command line."""

    #: Name of the target, as in the fabric file and `--switch`.
    target = None

    def __init__(self, name, device_id, run_dir, grpc_port=None, cpu_port=CPU_PORT,
                 log_level='warn', pcap_dir=None, start_timeout=60.0, **params):
        super().__init__(name, **params)
        self.device_id = device_id
        self.run_dir = run_dir
        self.grpc_port = grpc_port
        self.cpu_port = cpu_port
        self.log_level = log_level
        self.pcap_dir = pcap_dir
        self.start_timeout = start_timeout
        self.log_path = run_dir.file('%s.log' % name)
        self.proc = None

    # --- what subclasses define -------------------------------------------------------

    @property
    def switch_log(self):
        """The switch's own log (by default what the process prints)."""
        return self.log_path

    def command(self, ports):
        """argv that starts the switch with {port number: interface name}."""
        raise NotImplementedError

    # --- Mininet's switch interface ---------------------------------------------------

    @property
    def grpc_address(self):
        return '127.0.0.1:%d' % self.grpc_port

    def data_ports(self):
        """{port number: interface name} of the switch's data ports (not loopback)."""
        return {port: intf.name for port, intf in sorted(self.intfs.items())
                if intf.name != 'lo'}

    def start(self, controllers):
        for name in self.data_ports().values():
            quiet_interface(name)
        fixed_port = self.grpc_port is not None
        for attempt in range(3):
            if not fixed_port:
                self.grpc_port = free_loopback_port()
            try:
                self._start_once()
                return
            except SwitchStartError:
                # Another process may have taken the port between probe and bind: try a new one.
                if fixed_port or attempt == 2:
                    raise

    def _start_once(self):
        argv = self.command(self.data_ports())
        info('%s ' % self.name)
        debug('%s: %s\n' % (self.name, ' '.join(argv)))
        with open(self.log_path, 'ab') as log:
            log.write(('# %s\n' % ' '.join(argv)).encode())
            log.flush()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        self.run_dir.record_process(self.name, self.proc.pid)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SwitchStartError(self.name, 'exited with status %s while starting'
                                       % self.proc.returncode, self.log_path)
            if port_answers(self.grpc_port):
                return
            time.sleep(0.1)
        stop_process(self.proc, self.name)
        raise SwitchStartError(self.name, 'gRPC port %d did not answer within %.0f s'
                               % (self.grpc_port, self.start_timeout), self.log_path)

    def stop_process(self):
        """Ends the switch process only (the interfaces stay): a restart keeps its ports."""
        if self.proc is not None:
            stop_process(self.proc, self.name)
            self.proc = None

    def restart(self):
        """Kills the process and starts a new one on the same ports and gRPC port, with no
        program and no state: what a rebooted switch looks like to the controller."""
        self.stop_process()
        self._start_once()

    def stop(self, deleteIntfs=True):
        self.stop_process()
        super().stop(deleteIntfs)

    def describe(self):
        return {'name': self.name, 'target': self.target, 'device_id': self.device_id,
                'grpc_address': self.grpc_address, 'cpu_port': self.cpu_port,
                'pid': self.proc.pid if self.proc else None, 'log': self.switch_log,
                'ports': self.data_ports()}


class Bmv2Switch(P4RuntimeSwitch):
    """bmv2 simple_switch_grpc. Built with Thrift (as p4lang's packages are), it also serves
    its Thrift API, on 9090 unless told: every switch gets a free port of its own, or all but
    the first would fail to bind it and exit. A build without Thrift refuses the option, so it
    is given only where --help lists it (as topologies/bmv2.ts does)."""

    target = 'bmv2'
    binary = os.environ.get('BMV2_SWITCH', 'simple_switch_grpc')

    @property
    def switch_log(self):
        return self.run_dir.file('%s.txt' % self.name)

    def command(self, ports):
        # bmv2 names its log file <path>.txt; flushed per message so it is whole after a kill.
        argv = [self.binary, '--device-id', str(self.device_id), '--no-p4',
                '--log-file', self.switch_log[:-len('.txt')], '--log-flush',
                '--log-level', self.log_level]
        for port, name in ports.items():
            argv += ['-i', '%d@%s' % (port, name)]
        if self.pcap_dir:
            argv += ['--pcap', self.pcap_dir]
        if bmv2_has_thrift(self.binary):
            argv += ['--thrift-port', str(free_loopback_port())]
        return argv + ['--', '--grpc-server-addr', self.grpc_address,
                       '--cpu-port', str(self.cpu_port)]


class SoftSwitch(P4RuntimeSwitch):
    """Our TypeScript P4 target (softswitch/cli.ts), run from dist/ by node."""

    target = 'softswitch'
    node = os.environ.get('NODE', 'node')
    cli = os.path.join(REPO_ROOT, 'dist', 'softswitch', 'cli.js')

    def command(self, ports):
        if not os.path.exists(self.cli):
            raise SwitchStartError(self.name, 'the softswitch is not built (%s missing: make build)'
                                   % self.cli, self.log_path)
        argv = [self.node, self.cli,
                '--device-id', str(self.device_id), '--grpc-server-addr', self.grpc_address,
                '--cpu-port', str(self.cpu_port), '--log-level', self.log_level, '--no-p4']
        for port, name in ports.items():
            argv += ['-i', '%d@%s' % (port, name)]
        if self.pcap_dir:
            argv += ['--pcap', self.pcap_dir]
        return argv


TARGETS = {cls.target: cls for cls in (SoftSwitch, Bmv2Switch)}
