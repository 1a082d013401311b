"""Whether the programs a node should run still run: read from the pid files the lab keeps.

A router program that was killed or crashed leaves its pid file behind (FRR, BIRD and the
programs the lab spawns all do): a pid file naming no live process is a program that stopped.
A node kind lists its programs' pid-file names in `daemons` (FRR: zebra, staticd where it
runs, and bgpd); a Microsoft edge runs one ExaBGP (emulator.nodes.edge_bgp). A pid file that
cannot be read says nothing (not started, or not started yet): only a recorded pid that is gone
counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emulator.nodes import daemon, edge_bgp, registry
from emulator.nodes.base import Host
from emulator.plan.model import Plan, Role


@dataclass(frozen=True)
class Program:
    """One program of a node, as its pid file says."""

    node: str
    name: str               # bgpd, zebra, bird, exabgp, ...
    pid_file: Path
    pid: int | None
    running: bool
    what: str = ""          # which instance, where a node runs several (an edge's links)

    def describe(self) -> str:
        where = f" ({self.what})" if self.what else ""
        state = "running" if self.running else "not running"
        return f"{self.node}: {self.name}{where} {state} (pid {self.pid} in {self.pid_file.name})"


def pid_files(plan: Plan, node: str, d: Path) -> list[tuple[str, Path, str]]:
    """(program, pid file, instance) the node should have running."""
    spec = plan.node(node)
    if spec.role is Role.EDGE:
        return [("exabgp", edge_bgp.pid_file(d), "")] if edge_bgp.runs_one(plan, spec) else []
    if spec.role not in (Role.PEER_ROUTER, Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET):
        return []
    names = getattr(registry.kind_of(spec), "daemons", ())
    return [(name, d / f"{name}.pid", "") for name in names]


def programs(host: Host, plan: Plan, node: str, d: Path) -> list[Program]:
    """The node's programs whose pid file names a pid, running or not. Only where the lab's
    directory and processes are on this machine (the host reads files: network namespaces); a
    container's programs are its runtime's to watch, and say nothing here."""
    return read(host, node, pid_files(plan, node, d))


def read(host: Host, node: str, entries: list[tuple[str, Path, str]]) -> list[Program]:
    """The programs of these (name, pid file, instance) entries whose pid file names a pid."""
    reader = getattr(host, "read_text", None)
    if reader is None:
        return []
    found = []
    for name, path, what in entries:
        try:
            pid = int((reader(node, path) or "").split()[0])
        except (ValueError, IndexError):
            continue
        # /proc of this machine: a zombie (killed, not yet reaped) counts as gone.
        found.append(Program(node, name, path, pid, daemon.alive(pid), what))
    return found


def stopped(host: Host, plan: Plan, node: str, d: Path) -> list[Program]:
    """The node's programs that were started and are gone."""
    return [p for p in programs(host, plan, node, d) if not p.running]
