"""What a node kind is: how one router program is configured, checked, started and observed.

A node kind is one module in this package that registers an object implementing `NodeKind`
(see emulator.nodes.registry). The lab never branches on a program's name: it asks the registry
for the node's kind and calls these few methods. Kinds run their programs through a `Host`, the
part of a runtime they need (the netns runtime runs argv with `ip netns exec`, containerlab's with
`docker exec`), so that one kind serves both runtimes and a recording fake serves the unit tests.
"""
from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from emulator.plan.model import BgpSession, Node, Plan, Role

# A hung daemon must not hang `status` or `check`: every observation read has this budget.
OBSERVE_TIMEOUT = 3.0


class Host(Protocol):
    """Where a node's programs run: the two calls a node kind needs from a runtime."""

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]: ...

    def spawn(self, node: str, argv: Sequence[str], log: Path,
              env: Mapping[str, str] | None = None) -> int:
        """Start a long-running program in the node; return its pid."""


@dataclass(frozen=True)
class Neighbor:
    """One BGP neighbor as the router program itself reports it (never as the lab configured it).

    state uses RFC 4271 8.2.2 names (Idle, Connect, Active, OpenSent, OpenConfirm, Established);
    counts and the limit are None where the program does not say.
    """

    address: str
    state: str
    remote_asn: int | None = None
    received: int | None = None       # prefixes received from the neighbor (before import policy)
    accepted: int | None = None       # prefixes accepted (after import policy)
    max_prefix: int | None = None     # the configured prefix limit on the session, if any
    families: tuple[str, ...] = ()    # ipv4 / ipv6 unicast carried, where the program says
    exported: int | None = None       # prefixes sent to the neighbor (after export policy)

    @property
    def established(self) -> bool:
        return self.state == "Established"


@dataclass(frozen=True)
class RouterView:
    """One read of a router program's BGP state; answered=False when it did not answer in time."""

    node: str
    software: str
    neighbors: tuple[Neighbor, ...]
    answered: bool = True

    def neighbor(self, address: str) -> Neighbor | None:
        return next((n for n in self.neighbors if n.address == address), None)


@dataclass(frozen=True)
class ConfigProblem:
    """The program's own syntax check rejected a configuration file."""

    file: str
    line: int | None
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class NodeKind(Protocol):
    """A router program (or the exchange LAN) as the lab drives it."""

    software: ClassVar[str]                 # the topology's `software:` value
    title: ClassVar[str]                    # the program's own name, as users write it
    roles: ClassVar[frozenset[Role]]        # the roles this program can play
    config_name: ClassVar[str]              # its main configuration file, in the node's directory
    # Whether the program may start before its node's links exist (it picks interfaces and
    # addresses up as they appear); kinds without the attribute start once the links are there.
    starts_before_links: ClassVar[bool]

    def render(self, plan: Plan, node: Node, d: Path) -> str:
        """The lab-made configuration for this node (used when the topology gives no `config:`);
        d is the node's directory as the program will see it (logs, sockets)."""

    def check_config(self, path: Path) -> list[ConfigProblem]:
        """Run the program's own syntax check on a configuration file; [] when it passes."""

    def start(self, host: Host, plan: Plan, node: Node, d: Path) -> None:
        """Start the program in the node with d/config_name, its own sockets and pid files in d."""

    def observe(self, host: Host, node: Node, d: Path) -> RouterView:
        """Read every BGP neighbor's state, counts and limit from the program's own interface."""

    def routes(self, host: Host, node: Node, d: Path) -> frozenset[str]:
        """Every prefix in the program's BGP table (both families)."""


def far_end(session: BgpSession, node: str) -> tuple[str, str, int]:
    """(address, node, ASN) of the other end of a session, seen from `node`."""
    if session.a_node == node:
        return session.b_address, session.b_node, session.b_asn
    return session.a_address, session.a_node, session.a_asn


def near_end(session: BgpSession, node: str) -> str:
    """The session's own address on `node`."""
    return session.a_address if session.a_node == node else session.b_address


def as_int(value: object) -> int | None:
    """A number a program printed, or None where it printed none."""
    try:
        return int(value)   # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def run_quietly(host: Host, node: str, argv: Sequence[str]) -> str | None:
    """Output of a read-only command, or None when the program did not answer in time."""
    try:
        result = host.run(node, argv, check=False, timeout=OBSERVE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None
    return result.stdout if result.returncode == 0 else ""
