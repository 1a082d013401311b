"""Bring a lab up and down on the embedded runtime (network namespaces).

up:   topology → plan → namespaces and veths → exchange LAN → LAGs → FRR and BIRD →
      per interconnect link, the edge automation waits for the LAG, then configures BGP
      (starts ExaBGP) → wait for every session and the prefixes.
down: kill every process in the lab's namespaces, remove the namespaces and the lab directory.
      Needs nothing but the lab's name, so it works after a killed controller.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from emulator.observe import observers as observe
from emulator.core import wait
from emulator.portal import turnup as portal
from emulator.nodes import config as node_config
from emulator.nodes import exabgp, preflight, registry
from emulator.nodes.base import Host
from emulator.core.errors import LabStateError, RuntimeUnavailable, ValidationFailed, WaitTimeout
from emulator.runtime.lag import select
from emulator.runtime.lag.state import LagDriver
from emulator.runtime.lag.bond import BondLagDriver
from emulator.runtime.lag.ovs import OvsLagDriver
from emulator.runtime import registry as runtimes
from emulator.runtime.base import node_sysctls
from emulator.core.events import EventKind
from emulator.core.labdir import LabDir, LabState
from emulator.topology.loader import load, load_with_lines
from emulator.topology.validate import render_text, validate
from emulator.plan.model import Node, Plan, Role
from emulator.plan.resolve import recorded_plan, resolve
from emulator.runtime.netns import (NetnsRuntime, destroy_namespaces, lab_namespaces, namespace,
                                    namespace_pids)

Progress = Callable[[str], None]

TOOLS = {
    "ip": "iproute2", "ovsdb-tool": "openvswitch-switch", "ovsdb-server": "openvswitch-switch",
    "ovs-vswitchd": "openvswitch-switch", "ovs-vsctl": "openvswitch-switch",
    "ovs-appctl": "openvswitch-switch", "/usr/lib/frr/zebra": "frr", "/usr/lib/frr/bgpd": "frr",
    "vtysh": "frr", "bird": "bird2", "birdc": "bird2",
}


def missing_tools() -> list[str]:
    missing = [f"{tool} (Debian package {package})" for tool, package in TOOLS.items()
               if shutil.which(tool) is None]
    if shutil.which(str(Path(exabgp.sys.executable).with_name("exabgp"))) is None:
        missing.append("exabgp (PyPI package exabgp, in this Python environment)")
    return missing


@dataclass
class Lab:
    """A lab that is up: its plan, directory, runtime and LAG driver, and the host its observers
    read through (this machine, against the control sockets in the lab's directory, unless the
    runtime says otherwise: containerlab's `docker exec`)."""

    plan: Plan
    dir: LabDir
    runtime: NetnsRuntime
    driver: LagDriver
    degraded: list[str] = field(default_factory=list)
    host: Host = observe.LOCAL

    def node_dir(self, node: str) -> Path:
        return self.dir.node(node)

    def close(self) -> None:
        self.runtime.close()


def _driver(kind: str, runtime: NetnsRuntime, labdir: LabDir):
    if kind == "kernel-bond":
        return BondLagDriver(runtime.iproute, lambda n, i, a: runtime.configure(n, i, a))
    return OvsLagDriver(runtime, labdir.node)


def open_lab(name: str) -> Lab:
    """Attach to a running lab from its recorded state, through the runtime that built it: one
    that deploys labs whole (containerlab) attaches its own."""
    labdir = LabDir(name)
    state = labdir.read_state()
    deployment = runtimes.get(state.runtime).deployment
    if deployment is not None:
        found = deployment().attach(labdir)
        return Lab(found.plan, found.dir, found.runtime, found.driver, host=found.host)
    plan = recorded_plan(labdir)
    runtime = NetnsRuntime(plan.lab)
    return Lab(plan, labdir, runtime, _driver(state.lag_driver, runtime, labdir))


@contextmanager
def attached(name: str) -> Iterator[Lab]:
    """A running lab for the length of a `with` block."""
    running = open_lab(name)
    try:
        yield running
    finally:
        running.close()


def up(topology: str | Path, progress: Progress = lambda _: None, validate_rules: bool = True,
       turnup: str = "auto") -> Lab:
    """Build the lab; on any failure remove everything it created, then re-raise.

    validate_rules=False builds a topology that breaks the page's rules, to rehearse what such
    a turn-up looks like (the checks then say what is wrong). turnup="auto" registers the
    topology's ASNs and activates its declared prefixes once a connection is Active;
    "manual" leaves that to `mapslab asn register` and `mapslab prefix activate`.
    """
    started = time.monotonic()

    def step(text: str) -> None:
        progress(f"[{time.monotonic() - started:6.2f}s] {text}")

    topo, lines = load_with_lines(topology)
    preflight.check(topo, lines, topology)
    report = validate(topo, lines)
    if not report.ok and not validate_rules:
        step(f"{len(report.errors)} rule(s) of the MAPS page broken; building anyway")
    elif not report.ok:
        raise ValidationFailed(str(topology), render_text(report, str(topology)),
                               len(report.errors))
    if report.warnings:
        step(f"{len(report.warnings)} warning(s) from `mapslab validate` (e.g. documentation "
             f"ASNs or prefixes standing in for public ones)")
    plan = resolve(topo, Path(topology).resolve().parent)
    missing = missing_tools()
    if missing:
        raise RuntimeUnavailable("missing on this host: " + ", ".join(missing)
                                 + "; `make setup` installs them")
    labdir = LabDir(plan.lab)
    if labdir.exists() or lab_namespaces(plan.lab):
        raise LabStateError(f"a lab named {plan.lab!r} is already up (or was left behind): "
                            f"run `mapslab down {plan.lab}` first")
    state = LabState(plan.lab, str(Path(topology).resolve()), "netns",
                     [namespace(plan.lab, n.name) for n in plan.nodes])
    labdir.write_state(state)
    labdir.event(EventKind.LAB_CREATED, lab=plan.lab)
    shutil.copyfile(topology, labdir.path / "topology.yaml")
    runtime = NetnsRuntime(plan.lab)
    try:
        # The portal's peering exists (and nothing is registered) before any edge starts.
        portal.create(labdir, topo, validate_rules=validate_rules)
        lab = _build(plan, labdir, state, runtime, step)
        start_monitor(lab)
        # A lab that did not converge (users' own configurations) was waited for already.
        result = portal.turn_up(labdir, plan, topo, turnup,
                                seconds=0.0 if lab.degraded else None)
        lab.degraded += list(result.problems)
        step(result.summary())
    except BaseException:
        step("failed: removing everything this lab created")
        runtime.close()
        down(plan.lab)
        raise
    state.phase = "up"
    labdir.write_state(state)
    # Progress says what is true: a degraded lab is up, but not as the topology asked.
    step("lab is up" if not lab.degraded else
         f"lab is up, degraded: {lab.degraded[0]}"
         + (f" (and {len(lab.degraded) - 1} more)" if len(lab.degraded) > 1 else ""))
    return lab


def _build(plan: Plan, labdir: LabDir, state: LabState, runtime: NetnsRuntime,
           step: Callable[[str], None]) -> Lab:
    for node in plan.nodes:
        runtime.create_node(node.name, node_sysctls(node))
        if node.endpoints:
            runtime.configure(node.name, "lo", node.endpoints)
    step(f"{len(plan.nodes)} nodes (network namespaces)")

    for lag in plan.lags:
        for member in lag.members:
            runtime.create_veth(lag.a_node, member.a_ifname, lag.b_node, member.b_ifname)
    for port in plan.lan_ports:
        runtime.create_veth(port.node, port.ifname, plan.lan_switch, port.switch_ifname)
    for link in plan.links:
        runtime.create_veth(link.a_node, link.a_ifname, link.b_node, link.b_ifname)
        runtime.configure(link.a_node, link.a_ifname, [link.a_ipv4, link.a_ipv6])
        runtime.configure(link.b_node, link.b_ifname, [link.b_ipv4, link.b_ipv6])
    runtime.run(plan.lan_switch, ["ip", "link", "add", "br0", "type", "bridge"])
    for port in plan.lan_ports:
        runtime.run(plan.lan_switch, ["ip", "link", "set", port.switch_ifname, "master", "br0", "up"])
        runtime.configure(port.node, port.ifname, [port.ipv4, port.ipv6])
    runtime.run(plan.lan_switch, ["ip", "link", "set", "br0", "up"])
    members = sum(len(lag.members) for lag in plan.lags)
    step(f"{members} LAG member links, exchange LAN with {len(plan.lan_ports)} ports")

    first = plan.lags[0].a_node if plan.lags else plan.nodes[0].name
    state.lag_driver = select.choose(runtime.iproute(first))
    labdir.write_state(state)
    driver = _driver(state.lag_driver, runtime, labdir)
    lag_nodes = [n for n in plan.nodes if plan.lags_of(n.name)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: driver.prepare(n, list(plan.lags_of(n.name))), lag_nodes))
        list(pool.map(lambda n: driver.start(n, list(plan.lags_of(n.name))), lag_nodes))
    step(f"{len(plan.lags)} LAGs configured ({state.lag_driver}, LACP)")
    portal.ports_configured(labdir, plan)

    lab = Lab(plan, labdir, runtime, driver)

    def start_daemon(node: Node) -> None:
        d = labdir.node(node.name)
        if node.role in (Role.PEER_ROUTER, Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET):
            node_config.install(plan, node, d)
            registry.kind_of(node).start(runtime, plan, node, d)
        elif node.role is Role.EDGE and plan.links_of(node.name):
            (d / "internet").mkdir(exist_ok=True)
            exabgp.start_internet(runtime, plan, node, d / "internet")

    with ThreadPoolExecutor(max_workers=8) as pool:
        daemons = [pool.submit(start_daemon, n) for n in plan.nodes]
        edges = [pool.submit(edge_automation, lab, lag) for lag in plan.lags]
        for future in daemons:
            future.result()
        step(f"{_programs(plan, Role.PEER_ROUTER)} on peer routers, "
             f"{_programs(plan, Role.ROUTE_SERVER, Role.MEMBER)} on the route server and members")
        down_lags = {lag.name for lag, future in zip(plan.lags, edges) if future.result() is None}
    if down_lags:
        lab.degraded += [f"LAG {name} did not come up within the lacp_setup budget "
                         f"({wait.BUDGETS['lacp_setup']:.0f} s): no BGP on that link"
                         for name in sorted(down_lags)]
        step(f"{len(down_lags)} LAG(s) down: {', '.join(sorted(down_lags))}; BGP not configured there")
    else:
        step("every LAG up; the edge automation configured BGP (ExaBGP, AS8075)")

    expected = [s for s in plan.sessions if s.lag not in down_lags]
    try:
        wait.until("ebgp_session", lambda: observe.all_sessions(plan, labdir.node),
                   lambda states: "\n".join(
                       f"{s.node} {s.session} ({s.peer_address}): {s.state}" for s in states
                       if not s.established
                       and not (s.interconnect and _lag_of(plan, s.session) in down_lags)))
        step(f"{len(expected)} BGP sessions Established")
        wait_prefixes(lab, skip_lags=down_lags)
        step("Microsoft prefixes at every peer router; exchange prefixes at every edge")
    except WaitTimeout as exc:
        if not _users_own(plan):
            raise
        # The user's own configuration decides whether sessions come up: a lab that does not
        # converge is the finding to show (`mapslab check` says why), not a reason to tear down.
        lab.degraded.append(f"not converged with the users' own configurations "
                            f"(wait '{exc.budget}' ran out): {exc.diff.splitlines()[0]}"
                            + (f" and {len(exc.diff.splitlines()) - 1} more"
                               if len(exc.diff.splitlines()) > 1 else ""))
        step(f"not converged within the {exc.budget} budget ({exc.seconds:.0f} s); "
             f"the lab stays up for `mapslab check`:\n{exc.diff}")
    return lab


def _users_own(plan: Plan) -> bool:
    """Whether any node runs the user's own configuration."""
    return any(n.config for n in plan.nodes)


def _programs(plan: Plan, *roles: Role) -> str:
    """The router programs that play these roles, by their own names (FRR, BIRD, ...)."""
    titles = dict.fromkeys(getattr(registry.kind_of(n), "title", n.software)
                           for n in plan.nodes if n.role in roles)
    return "/".join(titles)


def _lag_of(plan: Plan, session: str) -> str | None:
    return next((s.lag for s in plan.sessions if s.name == session), None)


def start_monitor(lab: Lab) -> None:
    """The timeline monitor, in the LAN switch's namespace so that `down` stops it too."""
    d = lab.node_dir(lab.plan.lan_switch)
    lab.runtime.spawn(lab.plan.lan_switch,
                      [exabgp.sys.executable, "-m", "emulator.lab.monitor", lab.plan.lab],
                      d / "monitor.log",
                      env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def edge_automation(lab: Lab, lag) -> int | None:
    """Configure the edge's BGP for one link once its LAG is up; return ExaBGP's pid.

    The page's FAQ: "After the LAG comes up, our automated process configures BGP." A LAG that
    does not come up within its budget leaves the link without BGP (None), recorded as
    `lag-timeout`, so that the lab stays up for `mapslab check` to show why.
    """
    if lab.plan.edge_waits_for_lacp:
        try:
            seen = wait.until("lacp_setup", lambda: lab.driver.observe(lag.b_node, lag),
                              lambda s: "" if s.up else _lag_diff(s))
        except WaitTimeout as exc:
            lab.dir.event(EventKind.LAG_TIMEOUT, node=lag.b_node, lag=lag.name, last=exc.diff)
            return None
        lab.dir.event(EventKind.LAG_UP, node=lag.b_node, lag=lag.name, members_up=seen.members_up,
                      observed=seen.observed_at)
    d = lab.node_dir(lag.b_node) / lag.ifname
    d.mkdir(parents=True, exist_ok=True)
    pid = exabgp.start(lab.runtime, lab.plan, lab.plan.node(lag.b_node), lag, d,
                       lab.dir.events_file)
    lab.dir.event(EventKind.BGP_CONFIGURED, node=lag.b_node, lag=lag.name,
                  waited_for_lacp=lab.plan.edge_waits_for_lacp)
    return pid


def _lag_diff(state) -> str:
    return "\n".join(f"{state.node} {state.ifname} {m.ifname}: enabled={m.enabled} "
                     f"collecting={m.collecting} distributing={m.distributing} ({m.detail})"
                     for m in state.members) or f"{state.node} {state.ifname}: no members"


def expected_edge_prefixes(plan: Plan) -> set[str]:
    """Every prefix the exchange side announces (peer's own and every member's)."""
    return set(plan.exchange_prefixes())


def wait_prefixes(lab: Lab, skip_lags: set[str] = frozenset()) -> None:
    plan = lab.plan
    v4 = sum(1 for p in plan.microsoft_prefixes if ":" not in p)
    v6 = len(plan.microsoft_prefixes) - v4
    routers = plan.nodes_with(Role.PEER_ROUTER)

    def at_routers() -> dict[str, dict[str, int]]:
        return {n.name: observe.microsoft_prefix_count(plan, n.name, lab.node_dir(n.name))
                for n in routers}

    if len(skip_lags) < len(plan.lags):
        wait.until("prefixes", at_routers,
                   lambda counts: "\n".join(f"{name}: {c} of ipv4 {v4} / ipv6 {v6}"
                                            for name, c in counts.items()
                                            if c != {"ipv4": v4, "ipv6": v6}))
    wanted = expected_edge_prefixes(plan)
    wait.until("prefixes", lambda: observe.edge_routes(plan, lab.node_dir),
               lambda found: "\n".join(f"{r.node} ({r.lag}) lacks {sorted(wanted - r.prefixes())}"
                                       for r in found
                                       if r.lag not in skip_lags and not wanted <= r.prefixes()))


def lab_processes(name: str) -> list[int]:
    """Processes that belong to the lab: in its namespaces, or using its directory."""
    marker = str(LabDir(name).path) + "/"
    pids = {pid for ns in lab_namespaces(name) for pid in namespace_pids(ns)}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                pids.add(int(entry.name))
    return sorted(pids)


def leftovers(name: str) -> list[str]:
    """What of the lab is still on this host: namespaces, processes, its directory."""
    found = [f"namespace {ns}" for ns in lab_namespaces(name)]
    found += [f"process {pid}" for pid in lab_processes(name)]
    if LabDir(name).path.exists():
        found.append(f"directory {LabDir(name).path}")
    return found


@dataclass(frozen=True)
class DownReport:
    lab: str
    namespaces: int
    was_recorded: bool


def down(name: str) -> DownReport:
    """Remove every trace of the lab; idempotent, and needs only the lab's name."""
    labdir = LabDir(name)
    recorded: list[str] = []
    was_recorded = labdir.exists()
    if was_recorded:
        try:
            recorded = labdir.read_state().namespaces
        except LabStateError:
            recorded = []
    namespaces = sorted(set(recorded) | set(lab_namespaces(name)))
    destroy_namespaces(namespaces)
    labdir.remove()
    return DownReport(name, len(namespaces), was_recorded)
