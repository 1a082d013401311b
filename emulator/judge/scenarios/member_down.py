"""member-down: one LAG member loses carrier (its veth is set down on the peer side).

Expected, from looks at the LAG taken while the fault held: the bundle lost the member (fewer
members up), the LAG stayed up on the others in every look, no BGP session dropped, and the
traffic lost at most MEMBER_DOWN_MAX_OUTAGE seconds' worth (the flows the member carried move to
the others once its carrier is gone).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import (MEMBER_DOWN_MAX_OUTAGE, Fault, ScenarioResult,
                                           lag_stayed_up, loss_within, member_count_dropped,
                                           no_session_drops, on_traffic_path)
from emulator.judge.scenarios.links import MemberScenario, set_links
from emulator.judge.scenarios.registry import register

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab


@register
class MemberDown(MemberScenario):
    name = "member-down"
    summary = ("carrier loss on one member: the bundle loses it, the LAG stays up, 0 BGP "
               f"session drops, at most {MEMBER_DOWN_MAX_OUTAGE:.0f} s of traffic lost")

    def inject(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        set_links(lab, lag.a_node, [member.a_ifname], "down")

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        set_links(lab, lag.a_node, [member.a_ifname], "up")

    def expect(self, result: ScenarioResult) -> list[str]:
        return (on_traffic_path(result) + member_count_dropped(result) + lag_stayed_up(result)
                + no_session_drops(result) + loss_within(result, MEMBER_DOWN_MAX_OUTAGE))
