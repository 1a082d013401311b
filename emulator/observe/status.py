"""What a user sees of a running lab: LAGs with members, sessions with prefixes, edge verdicts."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from emulator.core import hold
from emulator.core.labdir import LabDir
from emulator.nodes import liveness
from emulator.nodes.base import Host
from emulator.observe import observers as observe
from emulator.plan.model import Plan, Role
from emulator.runtime.lag.state import LagDriver


class LabView(Protocol):
    """What `status` reads of a running lab (emulator.lab.lifecycle.Lab is one)."""

    plan: Plan
    driver: LagDriver
    host: Host                    # what the observers read through (the runtime's)
    dir: LabDir

    def node_dir(self, node: str) -> Path: ...


@dataclass(frozen=True)
class Status:
    lab: str
    lag_driver: str
    lags: list[observe.LagObservation]
    sessions: list[observe.SessionState]
    microsoft_prefixes: dict[str, dict[str, int]]     # peer router → family → count
    edges: list[observe.EdgeRoutes]
    stopped: list[liveness.Program] = field(default_factory=list)   # programs that died
    held_at: str | None = None    # the turn-up step the lab's automation is held at (--pause-at)


def status(lab: LabView) -> Status:
    """Every part read side by side: LAGs, sessions, each router's table, the edges' verdicts
    and the programs' liveness come from different daemons and files."""
    plan = lab.plan
    routers = [n.name for n in plan.nodes_with(Role.PEER_ROUTER)]

    def prefix_counts() -> dict[str, dict[str, int]]:
        counts = observe.each_node(routers, lambda n: observe.microsoft_prefix_count(
            plan, n, lab.node_dir(n), lab.host))
        return dict(zip(routers, counts))

    with ThreadPoolExecutor(max_workers=5) as pool:
        lags = pool.submit(observe.lags, plan, lab.driver)
        sessions = pool.submit(observe.all_sessions, plan, lab.node_dir, lab.host)
        prefixes = pool.submit(prefix_counts)
        edges = pool.submit(observe.edge_routes, plan, lab.node_dir, lab.host)
        stopped = pool.submit(observe.stopped_programs, plan, lab.node_dir, lab.host,
                              lab.driver)
        return Status(plan.lab, lab.driver.name, lags.result(), sessions.result(),
                      prefixes.result(), edges.result(), stopped.result(),
                      hold.read(lab.dir.path).step)


def _members(state) -> str:
    return ", ".join(f"{m.ifname} {'up' if m.up else 'down'}" for m in state.members)


def status_table(s: Status) -> str:
    out = [f"lab {s.lab}  (LAGs: {s.lag_driver})"]
    if s.held_at:
        out.append(f"turn-up held at {s.held_at} (`mapslab continue {s.lab}` takes the next step)")
    out += ["", "LAGs"]
    out.append(f"  {'link':<12} {'peer side':<22} {'edge side':<22} members")
    for lag in s.lags:
        a, b = lag.peer_side, lag.edge_side
        out.append(f"  {lag.lag:<12} {a.node + ' ' + a.ifname + (' UP' if a.up else ' DOWN'):<22} "
                   f"{b.node + ' ' + b.ifname + (' UP' if b.up else ' DOWN'):<22} "
                   f"{a.members_up}/{len(a.members)} ({_members(a)})")
    if s.stopped:
        out += ["", f"Programs not running (`mapslab recover {s.lab}` restarts them)"]
        out += [f"  {p.describe()}" for p in s.stopped]
    out += ["", "BGP sessions (seen from the peer side; prefixes received / sent, - where the "
                "program does not say)"]
    out.append(f"  {'session':<24} {'node':<10} {'peer':<10} {'address':<20} {'state':<12} "
               f"{'rcvd':>5} {'sent':>5}")
    for ses in s.sessions:
        sent = "-" if ses.prefixes_sent is None else ses.prefixes_sent
        out.append(f"  {ses.session:<24} {ses.node:<10} {ses.peer_node:<10} {ses.peer_address:<20} "
                   f"{ses.state:<12} {ses.prefixes_received:>5} {sent:>5}")
    out += ["", "Microsoft prefixes at the peer routers"]
    for router, counts in s.microsoft_prefixes.items():
        out.append(f"  {router:<10} ipv4 {counts.get('ipv4', 0)}  ipv6 {counts.get('ipv6', 0)}")
    out += ["", "Routes received by the Microsoft edge agents (verdicts)"]
    for edge in s.edges:
        outcomes = Counter(r.outcome for r in edge.routes())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none"
        out.append(f"  {edge.node:<10} {edge.lag:<12} {len(edge.prefixes())} prefixes: {detail}")
        for route in edge.routes():
            out.append(f"      {route.prefix:<22} {route.outcome:<14} {route.rule:<16} "
                       f"{route.reason}")
    return "\n".join(out)


def status_json(s: Status) -> dict:
    return {
        "lab": s.lab,
        "lag_driver": s.lag_driver,
        "lags": [{"lag": lag.lag,
                  "peer_side": {**asdict(lag.peer_side), "up": lag.peer_side.up},
                  "edge_side": {**asdict(lag.edge_side), "up": lag.edge_side.up}}
                 for lag in s.lags],
        "sessions": [asdict(x) for x in s.sessions],
        "microsoft_prefixes": s.microsoft_prefixes,
        "edges": [asdict(e) for e in s.edges],
        "stopped_programs": [{**asdict(p), "pid_file": str(p.pid_file)} for p in s.stopped],
        "held_at": s.held_at,
    }
