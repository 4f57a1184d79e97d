"""Per-run directories and the registry of what a run created.

Every fabric run gets a directory under RUN_ROOT holding the switches' logs and a registry
(one JSON object per line) of each process it started and each root-namespace interface it
created. Cleanup never matches by name pattern: it ends exactly the processes and deletes
exactly the interfaces a run recorded, so fabrics of other runs (tests of other worktrees run
at the same time) are never touched, and a run whose owner died (SIGKILL, crash) can still be
repaired afterwards (`make clean-net`).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import time

RUN_ROOT = os.environ.get('NVGRE_RUN_ROOT', '/tmp/nvgre-runs')
REGISTRY = 'registry.jsonl'
OWNER = 'owner'


def process_start_time(pid):
    """The kernel's start time of pid (clock ticks since boot), or None if it is gone.

    Recorded beside the pid so that a recycled pid is never mistaken for ours."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            # The command name (field 2) may hold spaces; the fields after it do not.
            fields = stat.read().rsplit(')', 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def is_alive(pid, start_time):
    return start_time is not None and process_start_time(pid) == start_time


def interface_exists(name):
    return os.path.exists('/sys/class/net/%s' % name)


def fresh_tag():
    """A short tag, unique on this machine, that prefixes the run's root-namespace interfaces
    (Linux allows 15 characters per interface name, so it stays short)."""
    while True:
        tag = 'n' + secrets.token_hex(2)
        if not os.path.exists(os.path.join(RUN_ROOT, tag)) and not any(
                name.startswith(tag + '-') for name in os.listdir('/sys/class/net')):
            return tag


class RunDir:
    """The directory of one run: logs, captures, the fabric file, and the registry."""

    def __init__(self, tag=None, root=RUN_ROOT):
        os.makedirs(root, exist_ok=True)
        self.tag = tag or fresh_tag()
        self.path = os.path.join(root, self.tag)
        os.makedirs(self.path, exist_ok=True)
        me = os.getpid()
        with open(os.path.join(self.path, OWNER), 'w') as owner:
            json.dump({'pid': me, 'start': process_start_time(me)}, owner)

    def file(self, name):
        return os.path.join(self.path, name)

    def _record(self, entry):
        # One line per write, flushed at once: the registry must be complete even if this
        # process is killed right after starting something.
        with open(self.file(REGISTRY), 'a') as registry:
            registry.write(json.dumps(entry) + '\n')

    def record_process(self, name, pid):
        self._record({'process': name, 'pid': pid, 'start': process_start_time(pid)})

    def record_interface(self, name):
        self._record({'interface': name})

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def stop_process(proc, name, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; always reaped (no zombie left)."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
    except ProcessLookupError:
        return proc.wait()


def kill_recorded(pid, start_time, grace=5.0):
    """Ends a recorded process that is not our child (a dead run's): TERM, then KILL."""
    if not is_alive(pid, start_time):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_alive(pid, start_time):
            return True
        time.sleep(0.05)
    if is_alive(pid, start_time):
        os.kill(pid, signal.SIGKILL)
    return True


def read_registry(path):
    entries = []
    try:
        with open(os.path.join(path, REGISTRY)) as registry:
            for line in registry:
                line = line.strip()
                if line:
                    entries.append(json.loads(line))
    except FileNotFoundError:
        pass
    return entries


def owner_alive(path):
    try:
        with open(os.path.join(path, OWNER)) as owner:
            info = json.load(owner)
    except (OSError, ValueError):
        return False
    return is_alive(info.get('pid', 0), info.get('start'))


def clean_run(path, remove_dir=True):
    """Ends the run's recorded processes (newest first) and deletes its recorded interfaces;
    returns what it removed. The directory (logs) goes too unless remove_dir is false."""
    removed = []
    entries = read_registry(path)
    for entry in reversed(entries):
        if 'process' in entry and kill_recorded(entry['pid'], entry.get('start')):
            removed.append('process %s (pid %d)' % (entry['process'], entry['pid']))
    for entry in entries:
        name = entry.get('interface')
        if name and interface_exists(name):
            # Deleting one end of a veth pair deletes its peer too.
            subprocess.run(['ip', 'link', 'del', name], stderr=subprocess.DEVNULL)
            removed.append('interface %s' % name)
    if remove_dir:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def clean_all(root=RUN_ROOT, include_live=False):
    """Cleans every run under root whose owner is gone (all of them with include_live)."""
    report = []
    if not os.path.isdir(root):
        return report
    for tag in sorted(os.listdir(root)):
        path = os.path.join(root, tag)
        if not os.path.isdir(path):
            continue
        if owner_alive(path) and not include_live:
            report.append('%s: still running (owner alive), left alone' % tag)
            continue
        removed = clean_run(path)
        report.append('%s: removed %s' % (tag, ', '.join(removed) if removed else 'nothing left'))
    return report
