"""prefix-flood: Microsoft's edge on one link announces more prefixes than the page's safe limit.

The page's FAQ: Microsoft announces roughly 280 prefixes, "and it may increase by 10-15% in
future. So, a safe limit of 400-500 can be good to set as 'Max prefix count'". Here the edge's
IPv4 session announces enough more-specifics of 20.0.0.0/11 to exceed 500.
Expected: the peer router refuses them (its prefix limit trips: RFC 4486 Cease, subcode 1, the
session goes down) and never installs them all; traffic keeps flowing over the other link.
Recovery: the edge announces its usual set again and the peer router's program is restarted
(a tripped limit keeps a session down until an operator clears it, as on real routers).
"""
from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from emulator.core import wait
from emulator.core.errors import FaultError, WaitTimeout
from emulator.core.page import MAX_PREFIX_MAXIMUM
from emulator.judge.scenarios.base import Fault, Scenario, TargetKind
from emulator.judge.scenarios.links import lag_named
from emulator.judge.scenarios.registry import register
from emulator.judge.scenarios.routers import restart, stop
from emulator.nodes import edge_bgp
from emulator.observe import observers as observe

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab
    from emulator.plan.model import Lag, Plan

# Over the page's upper bound by this many, whatever the usual set's size.
OVER_THE_LIMIT = 50
FLOOD_FROM = ipaddress.ip_network("20.0.0.0/11")


def flood(plan: Plan) -> tuple[str, ...]:
    """The extra IPv4 prefixes: enough that the session carries MAX_PREFIX_MAXIMUM + 50."""
    usual = {p for p in plan.microsoft_prefixes if ":" not in p}
    wanted = MAX_PREFIX_MAXIMUM + OVER_THE_LIMIT - len(usual)
    extra = (str(n) for n in FLOOD_FROM.subnets(new_prefix=24) if str(n) not in usual)
    return tuple(next(extra) for _ in range(max(wanted, 1)))


def _announce(lab: Lab, lag: Lag, prefixes: tuple[str, ...] | None) -> None:
    """Have the edge's ExaBGP announce these prefixes on the link (None: Microsoft's own); it
    reloads its configuration and sends the difference."""
    try:
        edge_bgp.announce(lab.plan, lab.plan.node(lag.b_node), lab.node_dir(lag.b_node),
                          link=lag, prefixes=prefixes)
    except OSError as exc:
        raise FaultError(f"{lag.b_node}: cannot make ExaBGP reload ({exc})") from None


@register
class PrefixFlood(Scenario):
    name = "prefix-flood"
    target_kind = TargetKind.LAG
    summary = ("the edge announces more than 500 prefixes: the peer's limit trips, it never "
               "installs them all")

    def check(self, lab: Lab, target: str, member: int) -> None:
        lag = lag_named(lab.plan, target)
        d = lab.node_dir(lag.b_node)
        if edge_bgp.running_pid(d) is None or lag.name not in edge_bgp.SpeakerState.read(d).links:
            raise FaultError(f"{target}: the edge has not configured BGP on this link")

    def inject(self, lab: Lab, fault: Fault) -> None:
        lag = lag_named(lab.plan, fault.target)
        _announce(lab, lag, lab.plan.microsoft_prefixes + flood(lab.plan))

    def recover(self, lab: Lab, fault: Fault) -> None:
        lag = lag_named(lab.plan, fault.target)
        _announce(lab, lag, None)
        stop(lab, lag.a_node)
        restart(lab, [lag.a_node])

    def hold(self, plan: Plan) -> float:
        return 5.0

    def during(self, lab: Lab, fault: Fault) -> tuple[str, ...]:
        """Wait until the peer either dropped the session or holds the whole flood; judge."""
        lag = lag_named(lab.plan, fault.target)
        extra = set(flood(lab.plan))
        peer = lag.a_node
        d = lab.node_dir(peer)
        address = next(s.b_address for s in lab.plan.sessions
                       if s.lag == lag.name and s.family == "ipv4")

        def look() -> tuple[str, int]:
            neighbor = observe.router_view(lab.plan, peer, d).neighbor(address)
            held = len(extra & observe.node_routes(lab.plan, peer, d))
            return (neighbor.state if neighbor else "not configured"), held

        try:
            state, held = wait.until("prefixes", look, lambda seen: "" if seen[0] != "Established"
                                     or seen[1] == len(extra) else
                                     f"{peer}: session {seen[0]}, {seen[1]} of the "
                                     f"{len(extra)} extra prefixes held")
        except WaitTimeout as exc:
            state, held = exc.last
        if held == len(extra):
            return (f"{peer} installed all {held} extra prefixes from {lag.b_node} "
                    f"({len(extra) + len([p for p in lab.plan.microsoft_prefixes if ':' not in p])} "
                    f"on the session): no prefix limit stopped them",)
        return ()

    def expect(self, result) -> list[str]:
        problems = list(result.fault_problems)
        if result.traffic.received == 0:
            problems.append("no traffic at all got through")
        return problems
