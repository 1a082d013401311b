"""A recording runtime for unit tests: remembers every request, runs nothing, needs no root."""
from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FakeRuntime:
    calls: list[tuple] = field(default_factory=list)
    nodes: set[str] = field(default_factory=set)
    outputs: dict[tuple[str, ...], str] = field(default_factory=dict)

    def create_node(self, node: str, sysctls: Mapping[str, str]) -> None:
        self.nodes.add(node)
        self.calls.append(("create_node", node, dict(sysctls)))

    def create_veth(self, a_node: str, a_ifname: str, b_node: str, b_ifname: str) -> None:
        self.calls.append(("create_veth", a_node, a_ifname, b_node, b_ifname))

    def configure(self, node: str, ifname: str, addresses: Sequence[str] = (),
                  arp: bool = True) -> None:
        self.calls.append(("configure", node, ifname, tuple(addresses), arp))

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        self.calls.append(("run", node, tuple(argv)))
        return subprocess.CompletedProcess(list(argv), 0, self.outputs.get(tuple(argv), ""), "")

    def spawn(self, node: str, argv: Sequence[str], log: Path,
              env: Mapping[str, str] | None = None) -> int:
        self.calls.append(("spawn", node, tuple(argv)))
        return 4242

    def destroy(self, nodes: Sequence[str]) -> None:
        self.calls.append(("destroy", tuple(nodes)))
        self.nodes.difference_update(nodes)

    def runs(self, node: str | None = None) -> list[tuple[str, ...]]:
        return [c[2] for c in self.calls if c[0] == "run" and (node is None or c[1] == node)]
