"""Checks that judge the peer's own routers, whatever program and configuration they run.

  max-prefix            every session with AS8075 on a peer router has a prefix limit in the
                        page's band (400-500), as the router program itself reports it
  both-families         an IPv4 and an IPv6 session Established on every interconnect link, as
                        Microsoft's edge sees them
  no-leak-to-microsoft  Microsoft's edge receives only the exchange side's prefixes: never its own,
                        never private or reserved space, never a path through AS8075; judged
                        after convergence and held for a window (a negative check that passed
                        before anything converged would prove nothing)

Evidence comes from the router program's own interface (kind.observe) and from the edge agent's
records (what Microsoft received), never from the configuration the lab wrote.
"""
from __future__ import annotations

from emulator.core import wait
from emulator.core.page import MAX_PREFIX_MAXIMUM, MAX_PREFIX_MINIMUM, MICROSOFT_ASN
from emulator.judge.verdict import Verdict
from emulator.nodes.base import far_end
from emulator.observe import observers as observe
from emulator.observe.timeline import Timeline
from emulator.plan.model import Plan, Role
from emulator.topology.addresses import Use, classify_prefix
from emulator.lab.lifecycle import Lab



# Evidence lines shown per verdict; a leak of Microsoft's whole table is one finding, not 315.
SHOWN = 12


def max_prefix(lab: Lab) -> Verdict:
    """The page's FAQ: "a safe limit of 400-500 can be good to set as 'Max prefix count'"."""
    plan = lab.plan
    evidence, bad = [], []
    for node in plan.nodes_with(Role.PEER_ROUTER):
        view = observe.router_view(plan, node.name, lab.node_dir(node.name), lab.host)
        if not view.answered:
            bad.append(f"{node.name} ({node.software}): did not answer; limits unknown")
            continue
        for session in plan.sessions_of(node.name):
            address, _, asn = far_end(session, node.name)
            if asn != MICROSOFT_ASN:
                continue
            neighbor = view.neighbor(address)
            where = f"{node.name} ({node.software}) neighbor {address} AS{asn} {session.family}"
            if neighbor is None:
                bad.append(f"{where}: not configured on the router")
            elif neighbor.max_prefix is None:
                bad.append(f"{where}: no prefix limit (the page: set max prefix "
                           f"{MAX_PREFIX_MINIMUM}-{MAX_PREFIX_MAXIMUM})")
            elif not MAX_PREFIX_MINIMUM <= neighbor.max_prefix <= MAX_PREFIX_MAXIMUM:
                bad.append(f"{where}: prefix limit {neighbor.max_prefix}, outside "
                           f"{MAX_PREFIX_MINIMUM}-{MAX_PREFIX_MAXIMUM}")
            else:
                evidence.append(f"{where}: prefix limit {neighbor.max_prefix}")
    return Verdict("max-prefix", not bad and bool(evidence),
                   f"{len(evidence)} of {len(evidence) + len(bad)} Microsoft sessions on peer "
                   f"routers have a prefix limit in {MAX_PREFIX_MINIMUM}-{MAX_PREFIX_MAXIMUM}",
                   tuple(bad + evidence))


def edge_session_states(plan: Plan, timeline: Timeline) -> dict[str, str]:
    """Interconnect session → its state as the edge agent last recorded it (up, down, ...)."""
    states: dict[str, str] = {}
    for lag in plan.lags:
        last: dict[str, str] = {}
        for event in timeline.session_changes(lag.name):
            last[str(event.get("peer"))] = str(event.get("state"))
        for session in plan.sessions:
            if session.lag == lag.name:
                states[session.name] = last.get(session.a_address, "never seen")
    return states


def both_families(lab: Lab) -> Verdict:
    """An IPv4 and an IPv6 session on every link, Established at Microsoft's edge."""
    plan = lab.plan
    states = edge_session_states(plan, Timeline.read(lab.dir))
    evidence, bad = [], []
    for lag in plan.lags:
        for family in ("ipv4", "ipv6"):
            session = next((s for s in plan.sessions if s.lag == lag.name and s.family == family),
                           None)
            if session is None:
                bad.append(f"{lag.name}: the topology has no {family} session")
                continue
            state = states.get(session.name, "never seen")
            line = (f"{lag.name} {family}: {lag.a_node} {session.a_address} → {lag.b_node}: "
                    f"{'Established' if state == 'up' else state} at the edge")
            (evidence if state == "up" else bad).append(line)
    return Verdict("both-families", not bad,
                   f"{len(evidence)} of {2 * len(plan.lags)} link families Established at the edge",
                   tuple(bad + evidence))


def leak_reason(plan: Plan, prefix: str, as_path: tuple[int, ...]) -> str:
    """Why Microsoft must not receive this route from the peer, or '' when it may."""
    if prefix in plan.microsoft_prefixes:
        return "Microsoft's own prefix sent back to Microsoft"
    if MICROSOFT_ASN in as_path:
        return f"a path through AS{MICROSOFT_ASN} {list(as_path)} (learned from Microsoft)"
    found = classify_prefix(prefix)
    if found.use in (Use.PRIVATE, Use.RESERVED):
        return f"not publicly routable: {found.describe(prefix)}"
    if prefix not in plan.exchange_prefixes():
        return "not a prefix of the exchange side"
    return ""


def _leaks(plan: Plan, edges: list[observe.EdgeRoutes]) -> list[str]:
    found = {f"{edge.node} ({edge.lag}) received {r.prefix} from {r.peer}: {why}"
             for edge in edges for r in edge.routes()
             if (why := leak_reason(plan, r.prefix, r.as_path))}
    return sorted(found)


def no_leak_to_microsoft(lab: Lab, window: float | None = None) -> Verdict:
    """The peer sends Microsoft only the exchange side's prefixes, for the whole window."""
    plan = lab.plan
    states = edge_session_states(plan, Timeline.read(lab.dir))
    down = sorted(name for name, state in states.items() if state != "up")
    if down:
        return Verdict("no-leak-to-microsoft", False,
                       "not judged: the lab has not converged (interconnect sessions down at "
                       "the edge)", tuple(f"{name}: not Established at the edge" for name in down))
    samples = wait.during("negative_window", lambda: _leaks(plan, observe.edge_routes(
        plan, lab.node_dir, lab.host)), seconds=window)
    window = wait.BUDGETS["negative_window"] if window is None else window
    leaks = sorted({leak for sample in samples for leak in sample})
    shown = leaks[:SHOWN] + ([f"... and {len(leaks) - SHOWN} more"] if len(leaks) > SHOWN else [])
    received = sum(len(r) for e in observe.edge_routes(plan, lab.node_dir, lab.host)
                   for r in e.peers.values())
    evidence = shown + [f"{len(samples)} samples over {window:.1f} s; the edges hold {received} "
                        f"route(s) from the peer, every one an exchange prefix"
                        if not leaks else f"{len(samples)} samples over {window:.1f} s"]
    return Verdict("no-leak-to-microsoft", not leaks,
                   f"{len(leaks)} route(s) sent to Microsoft that are not the exchange side's",
                   tuple(evidence))


ROUTER_CHECKS = {
    "max-prefix": max_prefix,
    "both-families": both_families,
    "no-leak-to-microsoft": no_leak_to_microsoft,
}
