"""location-down: every peer router and Microsoft edge router of a location stops.

Expected: the traffic moves to another location within the BGP hold time.
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
class LocationDown(RoutersDown):
    name = "location-down"
    target_kind = TargetKind.LOCATION
    summary = "every router of a location stops: traffic moves to another location"

    def routers(self, lab: Lab, target: str) -> list[str]:
        nodes = [n.name for n in lab.plan.nodes if n.location == target
                 and n.role in (Role.PEER_ROUTER, Role.EDGE)]
        if not nodes:
            raise FaultError(f"no routers at location {target!r}")
        # With one location there is nowhere for the traffic to move: refused up front.
        locations = sorted({n.location for n in lab.plan.nodes_with(Role.EDGE)})
        if locations == [target]:
            raise FaultError(f"location-down {target}: lab {lab.plan.lab} has one location "
                             f"only, so the traffic has nowhere to move; use a lab of two "
                             f"locations or more (e.g. topologies/two-locations.yaml)")
        return nodes
