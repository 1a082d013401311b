"""peer-router-down: a peer router stops (interfaces down, daemons killed).

Expected: the traffic moves to the other peer router's link within the BGP hold time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.core.errors import FaultError
from emulator.judge.scenarios.base import TargetKind
from emulator.judge.scenarios.registry import register
from emulator.judge.scenarios.routers import RoutersDown
from emulator.plan.model import Role

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab


@register
class PeerRouterDown(RoutersDown):
    name = "peer-router-down"
    target_kind = TargetKind.PEER_ROUTER
    summary = "links down, then daemons killed: traffic moves within the hold time"

    def routers(self, lab: Lab, target: str) -> list[str]:
        if target not in {n.name for n in lab.plan.nodes_with(Role.PEER_ROUTER)}:
            raise FaultError(f"{target!r} is not a {Role.PEER_ROUTER.value}")
        return [target]
