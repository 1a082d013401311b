"""What a fault scenario is: what it targets, how it is injected and recovered, what it expects.

A scenario is one module of this package holding a class that implements `Scenario` and is
decorated with `@register` (emulator.judge.scenarios.registry). `mapslab fail`, `recover` and
`failover`, the harness and the tests find it by name; nothing else changes to add one.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from emulator.judge.probe import ProbeResult

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab
    from emulator.plan.model import Plan

LACP_FAST_TIMEOUT = 3.0      # IEEE 802.1AX-2014 6.4.4: Short_Timeout_Time
# Traffic moves once a hold timer expires (RFC 4271 6.5) and the withdrawals propagate; the
# propagation (route server, best path, FIB) gets this much on top of the hold time.
PROPAGATION_MARGIN = 1.5
# Polling the member's state adds up to this much to the time it is seen out of the bundle.
MEMBER_POLL_MARGIN = 1.0


class TargetKind(Enum):
    """What a scenario's TARGET names, smallest first (the order of `mapslab fail --help`)."""

    MEMBER = "LAG member"           # a LAG's name, with --member N
    LAG = "LAG"
    PEER_ROUTER = "peer router"
    EDGE = "Microsoft edge router"
    LOCATION = "location"


@dataclass(frozen=True)
class Fault:
    """One injected fault, as recorded in the lab's faults.json."""

    scenario: str
    target: str
    member: int
    injected_at: float


@dataclass(frozen=True)
class ScenarioResult:
    """What the harness observed while one fault held under traffic, and after recovery."""

    scenario: str
    target: str
    member: int
    traffic: ProbeResult
    after_recovery: ProbeResult
    session_drops: int
    lag_stayed_up: bool
    member_removed_after: float | None     # seconds from the fault to the member out of the bundle
    recovery_seconds: float
    hold_time: int
    injected_at: float
    # What the scenario itself observed while the fault held (Scenario.during), as problems.
    fault_problems: tuple[str, ...] = ()

    @property
    def convergence_ms(self) -> float:
        return self.traffic.longest_gap_ms


class Scenario(ABC):
    """One way to break the lab, and what the interconnect must do about it."""

    name: ClassVar[str]                  # as typed after `mapslab fail LAB`
    target_kind: ClassVar[TargetKind]
    summary: ClassVar[str]               # the fault and its expectation, one line

    @abstractmethod
    def check(self, lab: Lab, target: str, member: int) -> None:
        """Refuse a target this scenario cannot fault here (FaultError, RuntimeUnavailable);
        called before anything is recorded or changed."""

    @abstractmethod
    def inject(self, lab: Lab, fault: Fault) -> None:
        """Break the lab as the scenario says."""

    @abstractmethod
    def recover(self, lab: Lab, fault: Fault) -> None:
        """Undo `inject`; BGP comes back the way it came up."""

    @abstractmethod
    def hold(self, plan: Plan) -> float:
        """How long the harness keeps the fault under traffic unless told otherwise."""

    def during(self, lab: Lab, fault: Fault) -> tuple[str, ...]:
        """Observe what the scenario is about while the fault still holds (after the traffic
        was measured); every problem found. Most scenarios judge from the traffic alone."""
        return ()

    @abstractmethod
    def expect(self, result: ScenarioResult) -> list[str]:
        """Every way the observed result breaks the scenario's expectation; [] when it held."""


class OutageScenario(Scenario):
    """A fault that takes a whole path away: the traffic must move to the other mesh link."""

    def hold(self, plan: Plan) -> float:
        return plan.timers.hold + 4.0

    def expect(self, result: ScenarioResult) -> list[str]:
        return traffic_moved(result)


# ---- expectations shared by several scenarios ----

def no_session_drops(r: ScenarioResult) -> list[str]:
    return [f"{r.session_drops} BGP session drop(s), expected 0"] if r.session_drops else []


def lag_stayed_up(r: ScenarioResult) -> list[str]:
    return [] if r.lag_stayed_up else [
        "the LAG went down, expected it to stay up on the other member"]


def traffic_moved(r: ScenarioResult) -> list[str]:
    """The traffic moved to the other path within the hold time plus the propagation margin."""
    t, problems = r.traffic, []
    if t.longest_gap_ms > (r.hold_time + PROPAGATION_MARGIN) * 1000:
        problems.append(f"traffic took {t.longest_gap_ms:.0f} ms to move, more than the "
                        f"hold time {r.hold_time} s + {PROPAGATION_MARGIN} s to propagate")
    if t.received == 0:
        problems.append("no traffic at all got through")
    return problems
