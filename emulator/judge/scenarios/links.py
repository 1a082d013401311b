"""What the LAG scenarios act on: a LAG and its members found by name, links set down and up."""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.core.errors import FaultError
from emulator.judge.scenarios.base import Fault, Scenario, TargetKind
from emulator.plan.model import Lag, LagMember, Plan

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab

# Seconds a member fault holds under traffic: longer than the LACP fast timeout, so that a
# silent member has left the bundle before the fault is recovered.
MEMBER_HOLD = 5.0


def lag_named(plan: Plan, name: str) -> Lag:
    for lag in plan.lags:
        if lag.name == name:
            return lag
    raise FaultError(f"no LAG named {name!r}; LAGs: {', '.join(l.name for l in plan.lags)}")


def member_of(lag: Lag, member: int) -> LagMember:
    if not 1 <= member <= len(lag.members):
        raise FaultError(f"{lag.name} has members 1-{len(lag.members)}, not {member}")
    return lag.members[member - 1]


def set_links(lab: Lab, node: str, ifnames: list[str], state: str) -> None:
    for ifname in ifnames:
        lab.runtime.run(node, ["ip", "link", "set", ifname, state])


class MemberScenario(Scenario):
    """A fault on one member of a LAG: the LAG must carry on over the others."""

    target_kind = TargetKind.MEMBER

    def check(self, lab: Lab, target: str, member: int) -> None:
        member_of(lag_named(lab.plan, target), member)

    def hold(self, plan: Plan) -> float:
        return MEMBER_HOLD

    @staticmethod
    def member(lab: Lab, fault: Fault) -> tuple[Lag, LagMember]:
        lag = lag_named(lab.plan, fault.target)
        return lag, member_of(lag, fault.member)
