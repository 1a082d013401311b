"""lag-down: every member of a LAG loses carrier (set down on the peer side).

Expected: the traffic moves to the other mesh link within the BGP hold time. Recovery stops the
link's edge speaker, brings the members up and lets the edge automation configure BGP once the
LAG is up again, so that BGP never comes back ahead of LACP.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import Fault, OutageScenario, TargetKind
from emulator.judge.scenarios.links import lag_named, set_links
from emulator.judge.scenarios.registry import register
from emulator.judge.scenarios.routers import reconfigure, stop_speaker

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab


@register
class LagDown(OutageScenario):
    name = "lag-down"
    target_kind = TargetKind.LAG
    summary = ("every member loses carrier: traffic moves to the other mesh link within the "
               "hold time")

    def check(self, lab: Lab, target: str, member: int) -> None:
        lag_named(lab.plan, target)

    def _set(self, lab: Lab, fault: Fault, state: str) -> None:
        lag = lag_named(lab.plan, fault.target)
        set_links(lab, lag.a_node, [m.a_ifname for m in lag.members], state)

    def inject(self, lab: Lab, fault: Fault) -> None:
        self._set(lab, fault, "down")

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag = lag_named(lab.plan, fault.target)
        stop_speaker(lab, lag)
        self._set(lab, fault, "up")
        reconfigure(lab, [lag])
