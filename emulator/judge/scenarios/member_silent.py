"""member-silent: one member stays up but its LACPDUs are dropped on both ends.

The drop is an nftables netdev egress rule on ether type 0x8809 (IEEE 802.3 Annex 57A, slow
protocols). Expected: the member leaves the bundle within the LACP fast timeout and no BGP
session drops.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import (Fault, ScenarioResult, lag_stayed_up,
                                           member_removed_in_time, no_session_drops,
                                           on_traffic_path)
from emulator.judge.scenarios.links import MemberScenario
from emulator.judge.scenarios.registry import register

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab

SLOW_PROTOCOLS = 0x8809


def _nft_table(ifname: str) -> str:
    return f"lacpcut_{ifname}"


@register
class MemberSilent(MemberScenario):
    name = "member-silent"
    summary = ("link up, LACPDUs dropped: the member leaves the bundle within the LACP fast "
               "timeout (3 s), 0 session drops")

    def inject(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        for node, ifname in ((lag.a_node, member.a_ifname), (lag.b_node, member.b_ifname)):
            # An ingress rule comes too late: OVS's packet socket sees the frame first.
            rules = (f"table netdev {_nft_table(ifname)} {{\n chain out {{\n"
                     f"  type filter hook egress device \"{ifname}\" priority 0;\n"
                     f"  ether type 0x{SLOW_PROTOCOLS:04x} counter drop\n }}\n}}\n")
            lab.runtime.run(node, ["sh", "-c", f"printf '%s' '{rules}' | nft -f -"])

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag, member = self.member(lab, fault)
        for node, ifname in ((lag.a_node, member.a_ifname), (lag.b_node, member.b_ifname)):
            lab.runtime.run(node, ["nft", "delete", "table", "netdev", _nft_table(ifname)],
                            check=False)

    def expect(self, result: ScenarioResult) -> list[str]:
        return (on_traffic_path(result) + member_removed_in_time(result) + lag_stayed_up(result)
                + no_session_drops(result))
