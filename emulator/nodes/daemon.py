"""A router program that runs in the foreground in its node: started with Host.spawn, its pid
kept in the node's directory, and awaited until its control socket answers.

OpenBGPD (`bgpd -d`) and GoBGP have no pid-file option: the pid the lab started is the one it
records, so that `mapslab down` and the fault scenarios find it.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from emulator.core import wait
from emulator.core.errors import CommandFailed
from emulator.nodes.base import Host


def spawn(host: Host, node: str, argv: Sequence[str], d: Path, name: str,
          env: Mapping[str, str] | None = None) -> int:
    """Start argv in the node, logging to d/<name>.log; record its pid in d/<name>.pid."""
    pid = host.spawn(node, list(argv), d / f"{name}.log", env=env)
    (d / f"{name}.pid").write_text(f"{pid}\n")
    return pid


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def await_ready(node: str, pid: int, log: Path, ready: Callable[[], bool], what: str) -> None:
    """Poll ready() within the daemon_socket budget; fail at once, with the program's own
    last words, if it exits first (for example on a configuration it refuses at start)."""

    def observe() -> bool:
        if ready():
            return True
        if not alive(pid):
            raise CommandFailed([node, what], 1, f"{what} exited during start-up:\n{tail(log)}")
        return False

    wait.until("daemon_socket", observe, lambda ok: "" if ok else f"{node}: {what} not ready")


def tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({log} not readable)"


def pid_of(d: Path, name: str) -> int | None:
    try:
        return int((d / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def environment() -> dict[str, str]:
    """For a helper run as `python -m emulator...` in a node: this checkout on its path."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": f"{root}:{path}" if path else root}
