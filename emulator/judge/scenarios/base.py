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

from emulator.core.errors import FaultError
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
# A member that loses carrier leaves the bundle at once (Open vSwitch sees the carrier; a kernel
# bond within its 100 ms miimon): the flows it carried may stall this long, no longer.
MEMBER_DOWN_MAX_OUTAGE = 1.0


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
class LagSample:
    """One look at the faulted LAG while the probe ran (both sides are sampled in turn)."""

    at: float                   # Unix time of the observation
    side: str                   # peer | edge
    members_up: int             # members collecting and distributing (IEEE 802.1AX-2014 6.4.2.3)
    members: int
    member_up: bool | None = None   # the faulted member, for the member scenarios


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
    # The edge that answered the probe at the moment of injection ('' if none had answered),
    # and whether the fault's target lies on that path (None: not known).
    carrying: str = ""
    on_path: bool | None = None
    # The faulted LAG, sampled from the start of the probe to its end (member scenarios).
    lag_samples: tuple[LagSample, ...] = ()
    # True when no target was given and the harness aimed the fault at the traffic's path.
    aimed: bool = False

    def samples_during(self) -> tuple[LagSample, ...]:
        return tuple(s for s in self.lag_samples if s.at >= self.injected_at)

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

    def aim(self, plan: Plan, edge: str) -> str:
        """The target of this scenario's kind on the path through `edge` (the edge answering
        the probe): the fault is aimed where the traffic is."""
        lags = [lag for lag in plan.lags if lag.b_node == edge]
        if self.target_kind is TargetKind.EDGE:
            return edge
        if self.target_kind is TargetKind.LOCATION:
            return plan.node(edge).location
        if not lags:
            raise FaultError(f"{edge} has no interconnect LAG to aim {self.name} at")
        return lags[0].a_node if self.target_kind is TargetKind.PEER_ROUTER else lags[0].name

    def carries(self, plan: Plan, target: str, edge: str) -> bool:
        """Whether the path through `edge` goes through the target (its link to the edge)."""
        if self.target_kind is TargetKind.EDGE:
            return target == edge
        if self.target_kind is TargetKind.LOCATION:
            return plan.node(edge).location == target
        if self.target_kind is TargetKind.PEER_ROUTER:
            return any(lag.a_node == target and lag.b_node == edge for lag in plan.lags)
        return any(lag.name == target and lag.b_node == edge for lag in plan.lags)

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
        return on_traffic_path(result) + traffic_moved(result)


# ---- expectations shared by several scenarios ----

def no_session_drops(r: ScenarioResult) -> list[str]:
    return [f"{r.session_drops} BGP session drop(s), expected 0"] if r.session_drops else []


def on_traffic_path(r: ScenarioResult) -> list[str]:
    """The fault hit the path that carried the probe when it was injected."""
    if not r.carrying:
        return ["no probe echo before the fault: the path carrying the traffic is unknown"]
    if r.on_path is False:
        return [f"the fault was off the traffic path: {r.carrying} answered the probe when "
                f"{r.target} was faulted, and that path does not go through {r.target}"]
    return []


def _sampled(r: ScenarioResult) -> list[str]:
    return [] if r.samples_during() else ["the LAG was not observed while the fault held"]


def lag_stayed_up(r: ScenarioResult) -> list[str]:
    """Both sides of the LAG kept a member in every look taken while the fault held."""
    down = [s for s in r.samples_during() if s.members_up == 0]
    if down:
        return [f"the LAG went down ({down[0].side} side, +{down[0].at - r.injected_at:.2f} s "
                f"after the fault, {len(down)} look(s) with no member up), expected it to stay "
                f"up on the other member"]
    return _sampled(r)


def member_count_dropped(r: ScenarioResult) -> list[str]:
    """The bundle lost the faulted member: fewer members up in some look during the fault."""
    during = r.samples_during()
    if during and all(s.members_up == s.members for s in during):
        return [f"the bundle never lost the member: {during[0].members} of {during[0].members} "
                f"members up in each of {len(during)} looks during the fault"]
    return _sampled(r)


def member_never_aggregated(r: ScenarioResult) -> list[str]:
    """The member left the bundle within the LACP fast timeout and, on each side, never came
    back once that side had seen it out while the fault held."""
    problems = member_removed_in_time(r)
    out: dict[str, float] = {}
    for s in r.samples_during():
        if s.member_up is False:
            out.setdefault(s.side, s.at)
        elif s.member_up and s.side in out:
            problems.append(f"the member aggregated again {s.at - r.injected_at:.2f} s after "
                            f"the fault ({s.side} side)")
            break
    return problems


def member_removed_in_time(r: ScenarioResult) -> list[str]:
    removed = r.member_removed_after
    if removed is None:
        return _sampled(r) or ["the member was never seen out of the bundle while the fault held"]
    if removed > LACP_FAST_TIMEOUT + MEMBER_POLL_MARGIN:
        return [f"member removed after {removed:.1f} s, expected within the LACP fast timeout "
                f"({LACP_FAST_TIMEOUT:.0f} s, +{MEMBER_POLL_MARGIN:.0f} s of polling)"]
    return []


def loss_within(r: ScenarioResult, seconds: float) -> list[str]:
    """At most `seconds` of traffic lost, in one outage and in all."""
    t, problems = r.traffic, []
    if t.longest_gap_ms > seconds * 1000:
        problems.append(f"traffic stalled {t.longest_gap_ms:.0f} ms, expected at most "
                        f"{seconds * 1000:.0f} ms")
    allowed = int(seconds * 1000 / t.interval_ms) if t.interval_ms else 0
    if t.lost > allowed:
        problems.append(f"{t.lost} of {t.sent} packets lost, expected at most {allowed} "
                        f"({seconds:.1f} s of traffic)")
    return problems


def traffic_moved(r: ScenarioResult) -> list[str]:
    """The traffic moved to another path (another edge answered) within the hold time plus
    the propagation margin."""
    t, problems = r.traffic, []
    others = {edge: n for edge, n in t.responders.items() if edge != r.carrying and n}
    if r.carrying and t.received and not others:
        problems.append(f"the traffic never moved: only {r.carrying} answered the probe")
    if t.longest_gap_ms > (r.hold_time + PROPAGATION_MARGIN) * 1000:
        problems.append(f"traffic took {t.longest_gap_ms:.0f} ms to move, more than the "
                        f"hold time {r.hold_time} s + {PROPAGATION_MARGIN} s to propagate")
    if t.received == 0:
        problems.append("no traffic at all got through")
    return problems
