"""The control channel a driver (the demo, the e2e tests) uses to run a fabric.

One JSON object per line each way over a file descriptor the driver passed (fd 3 by default,
so the terminal stays free for the Mininet CLI). Requests: {"id": n, "op": ..., ...};
replies: {"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}.
The first line sent is {"event": "ready", "fabric": <describe()>} (or {"event": "failed",
"error": ...}). End of input means the driver is gone: tear down.

Commands run in VMs are not relayed here: the driver enters a VM's network namespace
itself (its shell pid is in describe()), so it can run many at once and stream their output.
"""

import json
import os
import traceback

from mininet.cli import CLI

from .network import FabricError


class FabricCLI(CLI):
    """Mininet's CLI, accepting the fabric's node names (blue-web1): cmd.Cmd would otherwise
    end a command word at the first '-'."""
    identchars = CLI.identchars + '-'


class Agent:
    def __init__(self, fabric, fd):
        self.fabric = fabric
        self.reader = os.fdopen(fd, 'r', buffering=1, closefd=False)
        self.writer = os.fdopen(os.dup(fd), 'w', buffering=1)
        self.keep_run_dir = True

    def send(self, message):
        self.writer.write(json.dumps(message) + '\n')
        self.writer.flush()

    def serve(self):
        """Answers requests until 'stop' or end of input; returns whether to keep the run
        directory (the driver asks to remove it after a run that went well)."""
        for line in self.reader:
            line = line.strip()
            if not line:
                continue
            try:
                request = json.loads(line)
            except ValueError as error:
                self.send({'id': None, 'ok': False, 'error': 'bad request %r: %s'
                           % (line[:200], error)})
                continue
            reply = {'id': request.get('id')}
            try:
                result = self.handle(request)
                reply.update(ok=True, result=result)
            except FabricError as error:
                reply.update(ok=False, error=str(error))
            except Exception as error:  # a bug here must not leave the fabric up
                reply.update(ok=False, error='%s: %s' % (type(error).__name__, error),
                             trace=traceback.format_exc())
            self.send(reply)
            if request.get('op') == 'stop':
                return self.keep_run_dir
        return self.keep_run_dir

    def handle(self, request):
        op = request.get('op')
        fabric = self.fabric
        if op == 'describe':
            return fabric.describe()
        if op == 'move_vm':
            leaf, port = fabric.move_vm(request['vm'], request['to_leaf'])
            return {'leaf': leaf, 'port': port}
        if op == 'set_link':
            fabric.set_link(request['a'], request['b'], bool(request['up']))
            return None
        if op == 'restart_switch':
            fabric.restart_switch(request['switch'])
            return fabric.switch(request['switch']).describe()
        if op == 'cli':
            FabricCLI(fabric.net)
            return None
        if op == 'stop':
            self.keep_run_dir = bool(request.get('keep_run_dir', False))
            return None
        raise FabricError('unknown op %r' % op)
