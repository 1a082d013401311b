"""The runtime interface: the few things the lab builder asks of a host."""
from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol


class Runtime(Protocol):
    """Create nodes and links, configure interfaces, run programs in nodes, destroy."""

    def create_node(self, node: str, sysctls: Mapping[str, str]) -> None: ...

    def create_veth(self, a_node: str, a_ifname: str, b_node: str, b_ifname: str) -> None: ...

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
