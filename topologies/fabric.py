#!/usr/bin/python3
"""NVGRE leaf-spine fabrics in Mininet (run with Debian's /usr/bin/python3, as root).

  fabric.py write [--spines N] [--leaves N] [--spare-ports N]
      print the fabric file (YAML) the controller applies for that fabric; needs no root
  fabric.py run --switch softswitch|bmv2 [--control-fd 3] ...
      build and start the fabric, then serve the driver's requests (nvgre/agent.py)
  fabric.py clean [--all]
      end what dead fabric runs left behind (their recorded processes and interfaces)

The fabric is normally run by the demo (`make demo`, `make lab`) and the e2e tests, which
drive it, start the controller and apply the fabric file this writes.
"""

import argparse
import json
import os
import signal
import sys

from nvgre import plan as fabric_plan
from nvgre.fabricfile import fabric_file_yaml
from nvgre.rundir import RunDir, clean_all, clean_run


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('write', 'run'):
        cmd = sub.add_parser(name)
        cmd.add_argument('--spines', type=int, default=2)
        cmd.add_argument('--leaves', type=int, default=3)
        cmd.add_argument('--spare-ports', type=int, default=1,
                         help='free access ports per leaf, for live migration')
    run = sub.choices['run']
    run.add_argument('--switch', default='softswitch', help='softswitch or bmv2')
    run.add_argument('--control-fd', type=int, default=3)
    run.add_argument('--log-level', default='warn', help="switches' log level")
    run.add_argument('--pcap-dir', help="switches write per-port pcaps here")
    run.add_argument('--verbose', action='store_true', help="Mininet's info messages")
    run.add_argument('--baseline-path', action='store_true',
                     help='add a plain L2 P4 path between blue-web1 and blue-web2 (benchmarks)')
    clean = sub.add_parser('clean')
    clean.add_argument('--all', action='store_true',
                       help='also runs whose owner is still alive')
    return parser.parse_args(argv)


class Interrupted(Exception):
    pass


def _interrupt(signum, _frame):
    raise Interrupted('signal %d' % signum)


def run(args):
    # Imported here: `write` and `clean` must work without Mininet and without root.
    from mininet.log import setLogLevel
    from nvgre.agent import Agent
    from nvgre.network import Fabric

    # 'output' is what the Mininet CLI prints command results at.
    setLogLevel('info' if args.verbose else 'output')
    plan = fabric_plan.leaf_spine(args.spines, args.leaves, args.spare_ports)
    if args.baseline_path:
        fabric_plan.add_baseline_path(plan)
    run_dir = RunDir()
    control = os.fdopen(os.dup(args.control_fd), 'w', buffering=1)
    fabric = None
    keep = True
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        fabric = Fabric(plan, args.switch, run_dir, args.log_level, args.pcap_dir)
        fabric.start()
        fabric.write_fabric_file()
        agent = Agent(fabric, args.control_fd)
        agent.send({'event': 'ready', 'fabric': fabric.describe()})
        keep = agent.serve()
        return 0
    except Interrupted as stop:
        print('fabric: stopping on %s' % stop, file=sys.stderr)
        return 130
    except Exception as error:
        try:
            control.write(json.dumps({'event': 'failed', 'error': str(error),
                                      'run_dir': run_dir.path}) + '\n')
            control.flush()
        except OSError:
            pass
        raise
    finally:
        # Teardown must finish even if the driver signals again meanwhile.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if fabric is not None:
            try:
                fabric.stop()
            except Exception as error:
                print('fabric: stop failed (%s); cleaning from the registry' % error,
                      file=sys.stderr)
        # Whatever is still recorded (e.g. processes the driver started in VMs) goes too.
        clean_run(run_dir.path, remove_dir=not keep)


def main(argv):
    args = parse_args(argv)
    if args.command == 'write':
        try:
            plan = fabric_plan.leaf_spine(args.spines, args.leaves, args.spare_ports)
        except ValueError as error:
            print('fabric.py: %s' % error, file=sys.stderr)
            return 2
        sys.stdout.write(fabric_file_yaml(plan))
        return 0
    if args.command == 'clean':
        for line in clean_all(include_live=args.all):
            print(line)
        return 0
    return run(args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
