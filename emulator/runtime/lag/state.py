"""Observed LACP state of a LAG, whatever implements it (kernel bond or Open vSwitch)."""
from __future__ import annotations

from dataclasses import dataclass


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
