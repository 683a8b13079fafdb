"""`make status`: each service's state, pid, uptime and restarts under the local supervisord.

State, pid and uptime come from supervisord itself (its XML-RPC interface on the unix socket);
supervisord keeps no restart count, so restarts are counted from its log: every spawn of a
program since supervisord last started, but the first, is a restart (after a crash, a
`make restart`, or a retry in backoff).

    python deploy/local/status.py <supervisor.sock> <supervisord.log>
"""

from __future__ import annotations

import re
import sys
import time
import xmlrpc.client
from collections import Counter
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

STARTED = re.compile(r"supervisord started with pid \d+")
SPAWNED = re.compile(r"spawned: '([^']+)' with pid \d+")
EXITED = re.compile(r"exited: (\S+) \((.*)\)$")


def log_counts(log: Path) -> tuple[Counter[str], dict[str, str]]:
    """Spawns per program and each program's last exit, since supervisord last started."""
    spawns: Counter[str] = Counter()
    exits: dict[str, str] = {}
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for line in lines:
        if STARTED.search(line):
            spawns.clear()
            exits.clear()
        elif match := SPAWNED.search(line):
            spawns[match.group(1)] += 1
        elif match := EXITED.search(line):
            exits[match.group(1)] = f"{line[:19]} {match.group(2)}"
    return spawns, exits


def uptime(info: dict[str, Any]) -> str:
    if info["statename"] != "RUNNING":
        return "-"
    seconds = int(info["now"] - info["start"])
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) if seconds < 86400 else f"{seconds // 86400}d"


def main(socket_path: str, log_path: str) -> int:
    transport = SupervisorTransport(None, None, f"unix://{socket_path}")
    server: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    processes = server.supervisor.getAllProcessInfo()
    spawns, exits = log_counts(Path(log_path))
    print(f"{'service':<14} {'state':<9} {'pid':>7} {'uptime':>9} {'restarts':>8}  last exit")
    for info in processes:
        name = info["name"]
        pid = str(info["pid"]) if info["pid"] else "-"
        restarts = max(spawns[name] - 1, 0)
        state, last_exit = info["statename"], exits.get(name, "-")
        print(f"{name:<14} {state:<9} {pid:>7} {uptime(info):>9} {restarts:>8}  {last_exit}")
    return 0 if all(p["statename"] == "RUNNING" for p in processes) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
