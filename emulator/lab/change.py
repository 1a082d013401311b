"""Change a running lab in place: a member (or a lab-made peer router) announces or withdraws a
prefix; one end of a LAG changes its LACP activity or rate. Each change is recorded on the
timeline (`lab-changed`); the lab's own processes react as real ones would (LACP renegotiates,
routes propagate, the edge judges them).
"""
from __future__ import annotations

import ipaddress

from emulator.core import wait
from emulator.core.errors import UsageError, WorkflowError
from emulator.core.events import EventKind
from emulator.lab.lifecycle import Lab
from emulator.nodes import registry
from emulator.observe import observers as observe
from emulator.observe.observers import EdgeRoutes
from emulator.plan.model import Lag, Role
from emulator.runtime.lag import change as lag_change

SIDES = ("peer", "edge")


def _lag(lab: Lab, name: str) -> Lag:
    found = next((lag for lag in lab.plan.lags if lag.name == name), None)
    if found is None:
        raise UsageError(f"no LAG {name!r} in lab {lab.plan.lab!r} (LAGs: "
                         f"{', '.join(lag.name for lag in lab.plan.lags)})")
    return found


def set_lag(lab: Lab, lag_name: str, what: str, value: str, side: str = "peer") -> str:
    """Set `lacp` (active|passive|off) or `rate` (fast|slow) on one end of a LAG; returns the
    router changed."""
    if side not in SIDES:
        raise UsageError(f"--side {side!r}: choose peer or edge")
    lag = _lag(lab, lag_name)
    node = lag.a_node if side == "peer" else lag.b_node
    lag_change.apply(lab.driver, node, lag, what, value)
    lab.dir.event(EventKind.LAB_CHANGED, change=f"{what}={value}", lag=lag.name, node=node,
                  side=side)
    return node


def _prefix(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as exc:
        raise UsageError(f"{text!r} is not a prefix with its host bits zero ({exc})") from None


def originate(lab: Lab, node_name: str, prefix: str, announce: bool) -> None:
    """Announce (or withdraw) a prefix from a member, or from a peer router or the route server
    whose configuration the lab wrote (a user's own configuration is theirs to change)."""
    network = _prefix(prefix)
    try:
        node = lab.plan.node(node_name)
    except KeyError:
        speakers = [n.name for n in lab.plan.nodes if n.role in (Role.MEMBER, Role.PEER_ROUTER)]
        raise UsageError(f"no node {node_name!r} in lab {lab.plan.lab!r} that announces "
                         f"prefixes (members and peer routers: {', '.join(speakers)})") from None
    if node.role not in (Role.MEMBER, Role.PEER_ROUTER, Role.ROUTE_SERVER):
        raise UsageError(f"{node_name} is {node.role.value}: announce from a member or a peer "
                         f"router")
    if node.config:
        raise WorkflowError(f"{node_name} runs your own configuration ({node.config}): change "
                            f"it there (`mapslab exec {lab.plan.lab} {node_name}` opens its CLI)")
    kind = registry.kind_of(node)
    kind.originate(lab.runtime, lab.plan, node, lab.node_dir(node_name), network,  # type: ignore[attr-defined]
                   announce)
    lab.dir.event(EventKind.LAB_CHANGED, change="announce" if announce else "withdraw",
                  node=node_name, prefix=network)


def at_edges(lab: Lab, prefix: str) -> list[EdgeRoutes]:
    """The edge agents that hold `prefix` now."""
    return [e for e in observe.edge_routes(lab.plan, lab.node_dir) if prefix in e.prefixes()]


def wait_at_edges(lab: Lab, prefix: str, present: bool) -> list[EdgeRoutes]:
    """Wait (budget `prefixes`) until every edge with BGP holds `prefix`, or none does."""
    network = _prefix(prefix)
    edges = len(lab.plan.lags)

    def diff(found: list[EdgeRoutes]) -> str:
        if present and len(found) < edges:
            return f"{network} at {len(found)} of {edges} edge agents"
        if not present and found:
            return f"{network} still at {', '.join(e.node for e in found)}"
        return ""
    return wait.until("prefixes", lambda: at_edges(lab, network), diff)
