"""member-down: one LAG member loses carrier (its veth is set down on the peer side).

Expected: the LAG stays up on the other members and no BGP session drops.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import Fault, ScenarioResult, lag_stayed_up, no_session_drops
from emulator.judge.scenarios.links import MemberScenario, set_links
from emulator.judge.scenarios.registry import register

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab


@register
class MemberDown(MemberScenario):
    name = "member-down"
    summary = "carrier loss on one member: 0 BGP session drops, the LAG stays up"

    def inject(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        set_links(lab, lag.a_node, [member.a_ifname], "down")

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        set_links(lab, lag.a_node, [member.a_ifname], "up")

    def expect(self, result: ScenarioResult) -> list[str]:
        return no_session_drops(result) + lag_stayed_up(result)
