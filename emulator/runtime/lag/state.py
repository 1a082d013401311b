"""Observed LACP state of a LAG, whatever implements it (kernel bond or Open vSwitch)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from emulator.plan.model import Lag, Node


@dataclass(frozen=True)
class MemberState:
    ifname: str
    enabled: bool            # the bond forwards on this member
    collecting: bool         # IEEE 802.1AX-2014 6.4.2.3: actor state Collecting
    distributing: bool       # IEEE 802.1AX-2014 6.4.2.3: actor state Distributing
    partner_synchronized: bool
    detail: str = ""

    @property
    def up(self) -> bool:
        return self.enabled and self.collecting and self.distributing


@dataclass(frozen=True)
class LagState:
    node: str
    ifname: str
    members: tuple[MemberState, ...]
    observed_at: float

    @property
    def up(self) -> bool:
        """LACP negotiated on at least one member, collecting and distributing."""
        return any(m.up for m in self.members)

    @property
    def members_up(self) -> int:
        return sum(m.up for m in self.members)


class LagDriver(Protocol):
    """How a lab's LAGs are built and read (emulator.runtime.lag.ovs, emulator.runtime.lag.bond)."""

    name: str                     # openvswitch | kernel-bond

    def prepare(self, node: Node, lags: list[Lag]) -> None:
        """Everything that can be made before the node's LACP speaker starts."""

    def start(self, node: Node, lags: list[Lag]) -> None:
        """Start LACP on the node's bundles (IEEE 802.1AX-2014 6.4)."""

    def observe(self, node: str, lag: Lag) -> LagState:
        """The bundle's members as LACP sees them now."""

    def programs(self, node: str) -> list[tuple[str, Path]]:
        """The processes that speak LACP for the node, as (name, pid file): none where the
        kernel does (a bond), Open vSwitch's two daemons where they do."""

    def restart(self, node: Node, lags: list[Lag]) -> None:
        """Build and start the node's bundles again after its LACP processes died (they are
        gone: the caller stopped what was left of them)."""
