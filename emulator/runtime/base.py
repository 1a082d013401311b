"""The runtime interface: the few things a lab asks of where it runs, and what every runtime
gives a node.

`Runtime` is what the lab controller builds and drives a lab with: the netns runtime
(emulator.runtime.netns), containerlab's (emulator.runtime.containerlab) and the recording fake
(emulator.runtime.fake) implement it. Its run/spawn half is emulator.nodes.base.Host, all a node
kind needs. Runtimes are found by name in emulator.runtime.registry.
"""
from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from emulator.plan.model import Node, Role


class Runtime(Protocol):
    """Create nodes and links, configure interfaces, run programs in nodes, destroy."""

    def create_node(self, node: str, sysctls: Mapping[str, str]) -> None: ...

    def create_veth(self, a_node: str, a_ifname: str, b_node: str, b_ifname: str) -> None:
        """A point-to-point link between two nodes (a veth pair)."""

    def configure(self, node: str, ifname: str, addresses: Sequence[str] = (),
                  arp: bool = True) -> None:
        """Set the interface up, with its addresses; arp=False for LAG members."""

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]: ...

    def spawn(self, node: str, argv: Sequence[str], log: Path,
              env: Mapping[str, str] | None = None) -> int:
        """Start a long-running program in the node; return its pid."""

    def destroy(self, nodes: Sequence[str]) -> None:
        """Stop every process of the nodes and remove them; idempotent."""


def node_sysctls(node: Node) -> dict[str, str]:
    """The kernel settings of a node, whatever runs it (so that the runtimes cannot drift)."""
    sysctls = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
               # A failed link must come back with its IPv6 addresses.
               "net.ipv6.conf.all.keep_addr_on_down": "1",
               "net.ipv6.conf.default.keep_addr_on_down": "1"}
    if node.role is not Role.SWITCH:
        sysctls |= {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1",
                    # Asymmetric paths are normal across a two-link mesh.
                    "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0"}
    if node.role is Role.SWITCH:
        sysctls |= {"net.ipv6.conf.default.disable_ipv6": "1"}
    return sysctls
