"""Both ends of every LAG, as the LAG driver reads them: what status, checks and the monitor see.

Kept apart from the other observers so that the lab's monitor reads LAGs without importing the
router programs' readers.
"""
from __future__ import annotations

from dataclasses import dataclass

from emulator.plan.model import Plan
from emulator.runtime.lag.state import LagState


@dataclass(frozen=True)
class LagObservation:
    lag: str
    peer_side: LagState
    edge_side: LagState


def lags(plan: Plan, driver) -> list[LagObservation]:
    """Both sides of every LAG; one read per router where the driver can (observe_node)."""
    seen: dict[tuple[str, str], LagState] = {}
    for node in dict.fromkeys(n for lag in plan.lags for n in (lag.a_node, lag.b_node)):
        own = list(plan.lags_of(node))
        if hasattr(driver, "observe_node"):
            states = driver.observe_node(node, own)
        else:
            states = [driver.observe(node, lag) for lag in own]
        for lag, state in zip(own, states):
            seen[(lag.name, node)] = state
    return [LagObservation(lag.name, seen[(lag.name, lag.a_node)], seen[(lag.name, lag.b_node)])
            for lag in plan.lags]
