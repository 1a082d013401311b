"""edge-leak: a Microsoft edge router re-advertises the peer's prefixes to the internet.

The page's FAQ: "Will Microsoft re-advertise the Peer prefixes to the Internet? No." This fault
breaks that promise on purpose, so that `no-readvertisement` is seen failing: the edge's sessions
towards the internet node announce every prefix the exchange side sends Microsoft, besides
Microsoft's own. Nothing of the interconnect changes; traffic keeps flowing.
Expected: nothing, for the interconnect; what the fault is about is the internet's table, which
`during` reads: a leaked prefix heard there is the finding (so `failover edge-leak` fails, as
`mapslab check` does while the fault holds).
Recovery: the edge announces Microsoft's prefixes alone again (ExaBGP withdraws the rest).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.core import wait
from emulator.core.errors import FaultError, WaitTimeout
from emulator.judge.scenarios.base import Fault, Scenario, TargetKind
from emulator.judge.scenarios.injected import active
from emulator.judge.scenarios.registry import register
from emulator.nodes import edge_bgp
from emulator.observe import observers as observe
from emulator.plan.model import Role

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab
    from emulator.plan.model import Plan


def leaked(plan: Plan) -> tuple[str, ...]:
    """What the edge leaks: every prefix the exchange side announces to Microsoft."""
    return tuple(sorted(plan.exchange_prefixes()))


def _announce(lab: Lab, edge: str, prefixes: tuple[str, ...] | None) -> None:
    """Have the edge's ExaBGP announce these prefixes to the internet (None: Microsoft's own);
    it reloads its configuration and sends the difference."""
    try:
        edge_bgp.announce(lab.plan, lab.plan.node(edge), lab.node_dir(edge), internet=prefixes)
    except OSError as exc:
        raise FaultError(f"{edge}: cannot make its ExaBGP reload ({exc})") from None


def heard(lab: Lab) -> set[str]:
    """The leaked prefixes the internet node holds now."""
    internet = lab.plan.nodes_with(Role.INTERNET)[0].name
    return observe.bird_prefixes(lab.node_dir(internet), lab.host, internet) & set(leaked(lab.plan))


@register
class EdgeLeak(Scenario):
    name = "edge-leak"
    target_kind = TargetKind.EDGE
    summary = ("the edge re-advertises the peer's prefixes to the internet: "
               "no-readvertisement fails while it holds")

    def check(self, lab: Lab, target: str, member: int) -> None:
        if target not in {n.name for n in lab.plan.nodes_with(Role.EDGE)}:
            raise FaultError(f"{target!r} is not a {Role.EDGE.value}")
        if not lab.plan.nodes_with(Role.INTERNET) or not lab.plan.links_of(target):
            raise FaultError(f"{target}: no session to an internet node in this lab "
                             f"(microsoft.internet: false)")
        if edge_bgp.running_pid(lab.node_dir(target)) is None:
            raise FaultError(f"{target}: its ExaBGP is not running")

    def inject(self, lab: Lab, fault: Fault) -> None:
        _announce(lab, fault.target, lab.plan.microsoft_prefixes + leaked(lab.plan))

    def recover(self, lab: Lab, fault: Fault) -> None:
        _announce(lab, fault.target, None)
        # Another edge may leak too: faults are undone newest first, so while an older leak
        # holds the internet still hears it, and only the oldest's recovery waits for a clean
        # table.
        if any(f.scenario == self.name and f.injected_at < fault.injected_at
               for f in active(lab)):
            return
        wait.until("prefixes", lambda: heard(lab),
                   lambda found: "" if not found else f"the internet still holds {sorted(found)}")

    def hold(self, plan: Plan) -> float:
        return 5.0

    def during(self, lab: Lab, fault: Fault) -> tuple[str, ...]:
        """Wait until the leak reaches the internet node; every leaked prefix heard there."""
        try:
            found = wait.until("prefixes", lambda: heard(lab),
                               lambda seen: "" if seen else "no leaked prefix at the internet yet")
        except WaitTimeout:
            return ()
        return tuple(f"the internet heard the peer's {prefix} from {fault.target}"
                     for prefix in sorted(found))

    def expect(self, result) -> list[str]:
        problems = list(result.fault_problems)
        if result.traffic.received == 0:
            problems.append("no traffic at all got through")
        return problems
