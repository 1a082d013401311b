"""lacp-mismatch: one member is given another aggregation key on the peer side.

The partner then cannot aggregate it (IEEE 802.1AX-2014 6.4.14, Selection Logic). Expected: the
member never aggregates, the LAG stays up on the others and no BGP session drops. Needs
per-member keys, which Open vSwitch has and kernel bonds do not.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.core.errors import RuntimeUnavailable
from emulator.judge.scenarios.base import Fault, ScenarioResult, lag_stayed_up, no_session_drops
from emulator.judge.scenarios.links import MemberScenario
from emulator.judge.scenarios.registry import register

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab

OTHER_KEY = 4093


@register
class LacpMismatch(MemberScenario):
    name = "lacp-mismatch"
    summary = "one member with another aggregation key: it never aggregates, 0 session drops"

    def check(self, lab: Lab, target: str, member: int) -> None:
        super().check(lab, target, member)
        if lab.driver.name != "openvswitch":
            raise RuntimeUnavailable("lacp-mismatch needs per-member aggregation keys "
                                     "(Open vSwitch); kernel bonds have one key per bond")

    def inject(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        lab.driver.set_aggregation_key(lag.a_node, member.a_ifname, OTHER_KEY)

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        lab.driver.set_aggregation_key(lag.a_node, member.a_ifname, None)

    def expect(self, result: ScenarioResult) -> list[str]:
        return no_session_drops(result) + lag_stayed_up(result)
