"""The lab's own automation after the ports are configured, one step of the page at a time.

`up` takes these steps at once; `up --pause-at STEP` stops after STEP, with the hold recorded in
the lab's directory (emulator.core.hold), and `continue` takes the next ones from another
process. Each step needs only what is on disk: the plan, the timeline, the hold.

  lag-up                the peer's LACP (if a hold kept it back); the edge automation waits for
                        each LAG and records lag-up, or lag-timeout after its budget
  bgp-configured        "After the LAG comes up, our automated process configures BGP": ExaBGP
                        on every link whose LAG is up
  sessions-established  the peer's routers (if a hold kept them back), every session and prefix
  connection-active     the portal's provisioning (emulator.portal.turnup)
  asn-registered        auto turn-up: the topology's registered ASNs
  prefix-activated      auto turn-up: its activated prefixes, each with its origin's key
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from emulator.core import hold as holds
from emulator.core import wait
from emulator.core.errors import WaitTimeout
from emulator.core.events import EventKind
from emulator.core.hold import Hold, Step
from emulator.core.labdir import LabDir
from emulator.nodes import config as node_config
from emulator.nodes import edge_bgp, firewall, registry
from emulator.observe import observers as observe
from emulator.observe.timeline import Timeline
from emulator.plan.model import Lag, Node, Plan, Role
from emulator.portal import declared
from emulator.portal import turnup as portal
from emulator.runtime.lag.state import LagDriver
from emulator.runtime.netns import NetnsRuntime
from emulator.topology.intent import Topology

Progress = Callable[[str], None]


class Running(Protocol):
    """What the automation needs of a lab (emulator.lab.lifecycle.Lab is one)."""

    plan: Plan
    dir: LabDir
    runtime: NetnsRuntime
    driver: LagDriver
    degraded: list[str]

    def node_dir(self, node: str) -> Path: ...


@dataclass
class Run:
    """One run of the automation: the lab, where it stops, and what is still starting."""

    lab: Running
    topo: Topology
    hold: Hold                      # where this run stops (held_at "" : the end)
    step: Progress
    starting: list[Future] = field(default_factory=list)    # daemons started in the background
    seen: dict[str, bool] = field(default_factory=dict)     # LAGs the edge waited for, this run

    def allows(self, step: Step) -> bool:
        return self.hold.allows(step) and step <= self.hold.last_step()


# ---- the parts each step starts ----

def peer_lag_nodes(plan: Plan) -> list[Node]:
    return [plan.node(n) for n in dict.fromkeys(lag.a_node for lag in plan.lags)]


def edge_lag_nodes(plan: Plan) -> list[Node]:
    return [plan.node(n) for n in dict.fromkeys(lag.b_node for lag in plan.lags)]


def start_lacp(lab: Running, nodes: list[Node]) -> None:
    """Start LACP on these routers' bundles (their databases or bonds are prepared)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: lab.driver.start(n, list(lab.plan.lags_of(n.name))), nodes))


# The roles whose program is a node kind of the registry (an edge's speaker is started apart).
ROUTER_ROLES = (Role.PEER_ROUTER, Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET)


def starts_before_links(node: Node) -> bool:
    """Whether the node's program may start before its links exist (NodeKind)."""
    return node.role in ROUTER_ROLES and getattr(registry.kind_of(node), "starts_before_links",
                                                 False)


def start_daemon(lab: Running, node: Node) -> None:
    """A node's router program (an edge's speaker is started apart: `start_speakers`)."""
    d = lab.dir.node(node.name)
    if node.role in ROUTER_ROLES:
        node_config.install(lab.plan, node, d)
        firewall.apply(lab.runtime, lab.plan, node)     # the topology's forbidden flags, if set
        registry.kind_of(node).start(lab.runtime, lab.plan, node, d)


def lag_diff(state) -> str:
    return "\n".join(f"{state.node} {state.ifname} {m.ifname}: enabled={m.enabled} "
                     f"collecting={m.collecting} distributing={m.distributing} ({m.detail})"
                     for m in state.members) or f"{state.node} {state.ifname}: no members"


def edge_sees_lag(lab: Running, lag: Lag) -> bool:
    """The edge automation waits for the LAG (LACP collecting and distributing) and records
    lag-up, or lag-timeout once the lacp_setup budget ran out."""
    if not lab.plan.edge_waits_for_lacp:
        return True
    try:
        seen = wait.until("lacp_setup", lambda: lab.driver.observe(lag.b_node, lag),
                          lambda s: "" if s.up else lag_diff(s))
    except WaitTimeout as exc:
        lab.dir.event(EventKind.LAG_TIMEOUT, node=lag.b_node, lag=lag.name, last=exc.diff)
        return False
    lab.dir.event(EventKind.LAG_UP, node=lag.b_node, lag=lag.name, members_up=seen.members_up,
                  observed=seen.observed_at)
    return True


def peer_sees_lag(lab: Running, lag: Lag) -> bool:
    """The peer's end of the LAG collecting and distributing too, within the lacp_setup budget."""
    try:
        wait.until("lacp_setup", lambda: lab.driver.observe(lag.a_node, lag),
                   lambda s: "" if s.up else lag_diff(s))
    except WaitTimeout:
        return False
    return True


def start_speakers(runtime: NetnsRuntime, plan: Plan, labdir: LabDir) -> None:
    """Every edge's ExaBGP: its agents and its sessions to the internet, no link's neighbor."""
    for node in plan.nodes_with(Role.EDGE):
        if edge_bgp.runs_one(plan, node):
            edge_bgp.start(runtime, plan, node, labdir.node(node.name), labdir.events_file)


def _speaker_ready(lab: Running, node: Node) -> bool:
    d = lab.node_dir(node.name)
    try:
        wait.until("daemon_socket", lambda: edge_bgp.ready(lab.plan, node, d),
                   lambda ready: "" if ready else f"{node.name}: ExaBGP has not started its "
                   f"agents yet (no routes.json)")
    except WaitTimeout:
        return False
    return edge_bgp.running_pid(d) is not None


def edge_configures_bgp(lab: Running, lag: Lag) -> int:
    """The edge automation configures BGP on one link: the link's neighbors in the edge's
    ExaBGP (started again first if it is not running or never became ready); returns its pid."""
    node = lab.plan.node(lag.b_node)
    d = lab.node_dir(node.name)
    with edge_bgp.lock(d):
        if edge_bgp.running_pid(d) is None or not _speaker_ready(lab, node):
            edge_bgp.stop(d)
            edge_bgp.start(lab.runtime, lab.plan, node, d, lab.dir.events_file)
            if not _speaker_ready(lab, node):
                raise WaitTimeout("daemon_socket", wait.BUDGETS["daemon_socket"], None,
                                  f"{node.name}: ExaBGP did not start its agents")
        edge_bgp.set_link(lab.plan, node, d, lag, configured=True)
        pid = edge_bgp.running_pid(d) or 0
    lab.dir.event(EventKind.BGP_CONFIGURED, node=lag.b_node, lag=lag.name,
                  waited_for_lacp=lab.plan.edge_waits_for_lacp)
    return pid


def sessions_down(lab: Running, lag: Lag) -> None:
    """Record the link's edge sessions down: a speaker that stopped cannot say so itself."""
    for session in lab.plan.sessions:
        if session.lag == lag.name:
            lab.dir.event(EventKind.BGP_STATE, node=lag.b_node, lag=lag.name,
                          peer=session.a_address, state="down", reason="speaker stopped")


def edge_unconfigures_bgp(lab: Running, lag: Lag) -> None:
    """The inverse of edge_configures_bgp, before a link's LAG is rebuilt: the link's neighbors
    out of the edge's ExaBGP (if it runs with them), its sessions recorded down, so that BGP
    comes back only through edge_automation, after the LAG."""
    d = lab.node_dir(lag.b_node)
    if edge_bgp.running_pid(d) is None or lag.name not in edge_bgp.SpeakerState.read(d).links:
        return
    edge_bgp.set_link(lab.plan, lab.plan.node(lag.b_node), d, lag, configured=False)
    sessions_down(lab, lag)


def edge_automation(lab: Running, lag: Lag) -> int | None:
    """Configure the edge's BGP for one link once its LAG is up; return ExaBGP's pid, or None
    (recorded as `lag-timeout`) when the LAG did not come up within its budget."""
    return edge_configures_bgp(lab, lag) if edge_sees_lag(lab, lag) else None


def configured_lags(labdir: LabDir) -> set[str]:
    """The links on which the edge automation configured BGP."""
    return {str(e.get("lag")) for e in Timeline.read(labdir).of(EventKind.BGP_CONFIGURED)}


# ---- waiting for what the daemons do ----

def expected_edge_prefixes(plan: Plan) -> set[str]:
    """Every prefix the exchange side announces (peer's own and every member's)."""
    return set(plan.exchange_prefixes())


def wait_prefixes(lab: Running, skip_lags: set[str] = frozenset()) -> None:
    plan = lab.plan
    v4 = sum(1 for p in plan.microsoft_prefixes if ":" not in p)
    v6 = len(plan.microsoft_prefixes) - v4
    routers = plan.nodes_with(Role.PEER_ROUTER)

    def at_routers() -> dict[str, dict[str, int]]:
        names = [n.name for n in routers]          # read side by side: each a whole BGP table
        return dict(zip(names, observe.each_node(
            names, lambda n: observe.microsoft_prefix_count(plan, n, lab.node_dir(n)))))

    if len(skip_lags) < len(plan.lags):
        wait.until("prefixes", at_routers,
                   lambda counts: "\n".join(f"{name}: {c} of ipv4 {v4} / ipv6 {v6}"
                                            for name, c in counts.items()
                                            if c != {"ipv4": v4, "ipv6": v6}))
    wanted = expected_edge_prefixes(plan)
    wait.until("prefixes", lambda: observe.edge_routes(plan, lab.node_dir),
               lambda found: "\n".join(f"{r.lag} ({r.node}) lacks {sorted(wanted - r.prefixes())}"
                                       for r in found
                                       if r.lag not in skip_lags and not wanted <= r.prefixes()))
    # The members too, so that a lab that is up shows every session carrying its routes.
    wait.until("prefixes", lambda: observe.members_missing(plan, lab.node_dir),
               lambda missing: "\n".join(f"{member} lacks {len(left)} route(s) of the route "
                                         f"server, e.g. {sorted(left)[:3]}"
                                         for member, left in missing.items() if left))


def _users_own(plan: Plan) -> bool:
    return any(n.config for n in plan.nodes)


def _programs(plan: Plan, *roles: Role) -> str:
    """The router programs that play these roles, by their own names (FRR, BIRD, ...)."""
    return "/".join(dict.fromkeys(getattr(registry.kind_of(n), "title", n.software)
                                  for n in plan.nodes if n.role in roles))


# ---- the steps ----

def _lag_up(run: Run) -> None:
    lab, plan = run.lab, run.lab.plan
    current = holds.read(lab.dir.path)
    if holds.PEER_LAGS in current.deferred:
        start_lacp(lab, peer_lag_nodes(plan))
        holds.write(lab.dir.path, Hold(current.turnup, current.held_at, current.since,
                                       tuple(d for d in current.deferred if d != holds.PEER_LAGS)))
        run.step(f"the peer's LACP started on {len(plan.lags)} LAG(s)")
    done = configured_lags(lab.dir)
    todo = [lag for lag in plan.lags if lag.name not in done]
    configure = run.allows(Step.BGP_CONFIGURED)

    def automation(lag: Lag) -> bool:
        if configure:
            return edge_automation(lab, lag) is not None
        # Held at lag-up: the rehearsal looks at both ends, so stop once both collect and
        # distribute (IEEE 802.1AX-2014 6.4.15: each end's Mux reaches it on its own).
        return edge_sees_lag(lab, lag) and peer_sees_lag(lab, lag)

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(automation, todo))
        _join(run)
    run.seen.update((lag.name, up) for lag, up in zip(todo, seen))
    down = sorted(lag.name for lag, up in zip(todo, seen) if not up)
    if down:
        lab.degraded += [f"LAG {name} did not come up within the lacp_setup budget "
                         f"({wait.BUDGETS['lacp_setup']:.0f} s): no BGP on that link"
                         for name in down]
        run.step(f"{len(down)} LAG(s) down: {', '.join(down)}; BGP not configured there")
    elif configure:
        run.step("every LAG up; the edge automation configured BGP (ExaBGP, AS8075)")
    else:
        run.step("every LAG up (LACP collecting and distributing)")


def _join(run: Run) -> None:
    for future in run.starting:
        future.result()
    if run.starting:
        plan = run.lab.plan
        peer = (f"{_programs(plan, Role.PEER_ROUTER)} on peer routers" if run.allows(
            Step.SESSIONS_ESTABLISHED) else "the peer's routers held")
        run.step(f"{peer}, {_programs(plan, Role.ROUTE_SERVER, Role.MEMBER)} on the route "
                 f"server and members")
    run.starting.clear()


def _bgp_configured(run: Run) -> None:
    lab = run.lab
    done = configured_lags(lab.dir)
    # A LAG this run already waited for is not waited for twice; one seen up gets BGP at once.
    todo = [lag for lag in lab.plan.lags if lag.name not in done and run.seen.get(lag.name, True)]

    def automation(lag: Lag) -> int | None:
        return (edge_configures_bgp(lab, lag) if run.seen.get(lag.name)
                else edge_automation(lab, lag))

    with ThreadPoolExecutor(max_workers=8) as pool:
        started = list(pool.map(automation, todo))
    down = sorted(lag.name for lag, pid in zip(todo, started) if pid is None)
    lab.degraded += [f"LAG {name} is not up: no BGP on that link" for name in down
                     if not any(name in d for d in lab.degraded)]
    run.step(f"the edge automation configured BGP on {len(todo) - len(down)} link(s)"
             + (f"; not on {', '.join(down)} (LAG down)" if down else ""))


def _sessions_established(run: Run) -> None:
    lab, plan = run.lab, run.lab.plan
    current = holds.read(lab.dir.path)
    if holds.PEER_BGP in current.deferred:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda n: start_daemon(lab, n), plan.nodes_with(Role.PEER_ROUTER)))
        holds.write(lab.dir.path, Hold(current.turnup, current.held_at, current.since,
                                       tuple(d for d in current.deferred if d != holds.PEER_BGP)))
        run.step(f"the peer configured BGP ({_programs(plan, Role.PEER_ROUTER)} started)")
    _join(run)
    down_lags = {lag.name for lag in plan.lags} - configured_lags(lab.dir)
    expected = [s for s in plan.sessions if s.lag not in down_lags]
    try:
        wait.until("ebgp_session", lambda: observe.all_sessions(plan, lab.node_dir),
                   lambda states: "\n".join(
                       f"{s.node} {s.session} ({s.peer_address}): {s.state}" for s in states
                       if not s.established
                       and not (s.interconnect and _lag_of(plan, s.session) in down_lags)))
        run.step(f"{len(expected)} BGP sessions Established")
        wait_prefixes(lab, skip_lags=down_lags)
        run.step("Microsoft prefixes at every peer router; exchange prefixes at every edge")
    except WaitTimeout as exc:
        if not _users_own(plan):
            raise
        # The user's own configuration decides whether sessions come up: a lab that does not
        # converge is the finding to show (`mapslab check` says why), not a reason to tear down.
        lines = exc.diff.splitlines()
        lab.degraded.append(f"not converged with the users' own configurations "
                            f"(wait '{exc.budget}' ran out): {lines[0]}"
                            + (f" and {len(lines) - 1} more" if len(lines) > 1 else ""))
        run.step(f"not converged within the {exc.budget} budget ({exc.seconds:.0f} s); "
                 f"the lab stays up for `mapslab check`:\n{exc.diff}")


def _lag_of(plan: Plan, session: str) -> str | None:
    return next((s.lag for s in plan.sessions if s.name == session), None)


def _connection_active(run: Run) -> None:
    lab = run.lab
    # A lab that did not converge (users' own configurations) was waited for already.
    result = portal.turn_up(lab.dir, lab.plan, run.topo, "manual",
                            seconds=0.0 if lab.degraded else None)
    lab.degraded += [p for p in result.problems if p not in lab.degraded]
    run.step(result.summary())


def _asn_registered(run: Run) -> None:
    state = declared.register(run.lab.dir, run.lab.plan, run.topo)
    run.step(f"{len(state.registrations)} ASN(s) registered, each with its peering service "
             f"prefix key")


def _prefix_activated(run: Run) -> None:
    state = declared.activate(run.lab.dir, run.lab.plan)
    run.step(f"{len(state.prefixes)} prefix(es) activated with their origins' keys")


STEPS: dict[Step, Callable[[Run], None]] = {
    Step.LAG_UP: _lag_up,
    Step.BGP_CONFIGURED: _bgp_configured,
    Step.SESSIONS_ESTABLISHED: _sessions_established,
    Step.CONNECTION_ACTIVE: _connection_active,
    Step.ASN_REGISTERED: _asn_registered,
    Step.PREFIX_ACTIVATED: _prefix_activated,
}


def advance(run: Run, after: Step) -> Step:
    """Take every step after `after` that the run's hold allows; return the last one taken.

    A connection that never became Active stops the auto turn-up there (the portal allows no
    registration), as a degradation of the lab rather than an error.
    """
    reached = after
    for step in holds.ORDER[after.position + 1:]:
        if not run.allows(step):
            break
        if step >= Step.ASN_REGISTERED and not declared.all_active(run.lab.dir, run.lab.plan):
            run.lab.degraded.append("nothing registered: the portal allows registration only "
                                    "once every connection of the peering is Active")
            break
        STEPS[step](run)
        reached = step
    _join(run)
    return reached
