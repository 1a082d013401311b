"""lacp-mismatch: one member's LACPDUs on the peer side stop matching the rest of its bundle.

The peer side moves the member out of its bond into an LACP port of its own that reports the
edge's own System ID: IEEE 802.1AX-2014 6.4.14.1 selection then never attaches that member to
the bundle's aggregator, on either end (Open vSwitch: `lacp/show` says "detached", `bond/show`
"disabled"). Expected: the member is seen out of the bundle within the LACP fast timeout and
never aggregates while the fault holds, the LAG stays up on the others, no BGP session drops.
Needs a LAG driver that can regroup one member (Open vSwitch); kernel bonds are refused.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.core.errors import RuntimeUnavailable
from emulator.judge.scenarios.base import (Fault, ScenarioResult, lag_stayed_up,
                                           member_never_aggregated, on_traffic_path,
                                           no_session_drops)
from emulator.judge.scenarios.links import MemberScenario
from emulator.judge.scenarios.registry import register

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab


@register
class LacpMismatch(MemberScenario):
    name = "lacp-mismatch"
    summary = ("one member's LACPDUs no longer match its bundle: it never aggregates, the LAG "
               "stays up, 0 session drops")

    def check(self, lab: Lab, target: str, member: int) -> None:
        super().check(lab, target, member)
        if not hasattr(lab.driver, "mismatch_member"):
            raise RuntimeUnavailable(f"lacp-mismatch needs per-member LACP control to regroup "
                                     f"one member (Open vSwitch); {lab.driver.name} cannot")

    def inject(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        lab.driver.mismatch_member(lag.a_node, lag, member.a_ifname)

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        lab.driver.restore_member(lag.a_node, lag, member.a_ifname)

    def expect(self, result: ScenarioResult) -> list[str]:
        return (member_never_aggregated(result) + no_session_drops(result)
                + lag_stayed_up(result) + on_traffic_path(result))
