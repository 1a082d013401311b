"""Bring a lab up and down on the embedded runtime (network namespaces).

up:   topology → plan → namespaces and veths → exchange LAN → router programs and each edge's
      ExaBGP (no neighbor of the peer's yet), while the LAGs are configured → per interconnect
      link, the edge automation waits for the LAG, then configures BGP (the link's neighbors,
      by reload) → wait for every session and the prefixes.
down: kill every process in the lab's namespaces, remove the namespaces and the lab directory.
      Needs nothing but the lab's name, so it works after a killed controller.
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from pathlib import Path

from emulator.observe import observers as observe
from emulator.core import hold as holds
from emulator.core import wait
from emulator.core.hold import Step
from emulator.lab import automation
from emulator.portal import turnup as portal
from emulator.nodes import exabgp, preflight
from emulator.nodes.base import Host
from emulator.core.errors import (LabStateError, RuntimeUnavailable, UsageError,
                                  ValidationFailed)
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
from emulator.plan import planfile
from emulator.plan.model import Plan, Role
from emulator.plan.resolve import recorded_plan, resolve
from emulator.runtime.netns import NetnsRuntime, lab_namespaces, namespace, prefetch_netlink
from emulator.lab.teardown import DownReport, down, lab_processes, leftovers  # noqa: F401

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
       turnup: str = "auto", pause_at: Step | None = None) -> Lab:
    """Build the lab; on any failure remove everything it created, then re-raise.

    validate_rules=False builds a topology that breaks the page's rules, to rehearse what such
    a turn-up looks like (the checks then say what is wrong). turnup="auto" registers the
    topology's ASNs and activates its declared prefixes once every connection is Active;
    "manual" leaves that to `mapslab asn register` and `mapslab prefix activate`.
    pause_at stops the lab's own automation once that step of the turn-up is reached
    (`resume` takes the next ones).
    """
    started = time.monotonic()
    if pause_at is not None:
        pause_at = holds.parse_step(pause_at, turnup)   # manual: the user's steps are not held

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
    # The resolved plan too, for the lab's monitor (it starts without the topology loader).
    (labdir.path / planfile.FILE_NAME).write_text(json.dumps(planfile.to_dict(plan)))
    runtime = NetnsRuntime(plan.lab)
    run: automation.Run | None = None
    try:
        # The portal's peering exists (and nothing is registered) before any edge starts.
        portal.create(labdir, topo, validate_rules=validate_rules)
        run = automation.Run(None, topo, holds.held(turnup, pause_at),  # type: ignore[arg-type]
                             step)
        lab = _build(plan, labdir, state, runtime, step, run)
        start_monitor(lab)
        reached = automation.advance(run, Step.PORTS_CONFIGURED)
        _hold(labdir, turnup, pause_at, reached)
    except BaseException:
        step("failed: removing everything this lab created")
        # Programs still being started in the background would outlive a teardown that ran
        # before them: let those starts end first.
        if run is not None:
            futures_wait(run.starting, timeout=wait.BUDGETS["daemon_socket"])
        runtime.close()
        down(plan.lab)
        raise
    state.phase = "up" if pause_at is None else f"held at {reached}"
    labdir.write_state(state)
    if pause_at is not None:
        step(f"turn-up held at {reached}: `mapslab continue {plan.lab}` takes the next step")
    # Progress says what is true: a degraded lab is up, but not as the topology asked.
    step("lab is up" if not lab.degraded else
         f"lab is up, degraded: {lab.degraded[0]}"
         + (f" (and {len(lab.degraded) - 1} more)" if len(lab.degraded) > 1 else ""))
    return lab


def _build(plan: Plan, labdir: LabDir, state: LabState, runtime: NetnsRuntime,
           step: Callable[[str], None], run: automation.Run | None = None) -> Lab:
    """Every node and link, Microsoft's ports configured: the turn-up's first step."""
    run = run or automation.Run(None, None, holds.Hold(), step)    # type: ignore[arg-type]
    def create(node) -> None:
        runtime.create_node(node.name, node_sysctls(node))
        if node.endpoints:
            runtime.configure(node.name, "lo", node.endpoints)

    prefetch_netlink()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, plan.nodes))
    step(f"{len(plan.nodes)} nodes (network namespaces)")
    lab = Lab(plan, labdir, runtime, None)      # type: ignore[arg-type]  # driver chosen below
    # The router programs start in the background while the links and LAGs are made and the
    # edge automation waits for them (a session's address appears with its LAG's port; the
    # programs retry until then): first those that may start before their links, then the
    # others once the links exist. The peer's routers are held back by a rehearsal that stops
    # before Established.
    peer_bgp = run.allows(Step.SESSIONS_ESTABLISHED)
    daemons = [n for n in plan.nodes if peer_bgp or n.role is not Role.PEER_ROUTER]
    early = [n for n in daemons if automation.starts_before_links(n)]
    starter = ThreadPoolExecutor(max_workers=8)
    run.starting += [starter.submit(automation.start_daemon, lab, n) for n in early]

    veths = [(lag.a_node, m.a_ifname, lag.b_node, m.b_ifname) for lag in plan.lags
             for m in lag.members]
    veths += [(p.node, p.ifname, plan.lan_switch, p.switch_ifname) for p in plan.lan_ports]
    veths += [(k.a_node, k.a_ifname, k.b_node, k.b_ifname) for k in plan.links]
    addressed = [(k.a_node, k.a_ifname, [k.a_ipv4, k.a_ipv6]) for k in plan.links]
    addressed += [(k.b_node, k.b_ifname, [k.b_ipv4, k.b_ipv6]) for k in plan.links]
    addressed += [(p.node, p.ifname, [p.ipv4, p.ipv6]) for p in plan.lan_ports]
    with ThreadPoolExecutor(max_workers=8) as pool:     # one ip(8) command each
        list(pool.map(lambda v: runtime.create_veth(*v), veths))
        runtime.run(plan.lan_switch, ["ip", "link", "add", "br0", "type", "bridge"])
        list(pool.map(lambda port: runtime.run(plan.lan_switch, [
            "ip", "link", "set", port.switch_ifname, "master", "br0", "up"]), plan.lan_ports))
        list(pool.map(lambda a: runtime.configure(*a), addressed))
    runtime.run(plan.lan_switch, ["ip", "link", "set", "br0", "up"])
    members = sum(len(lag.members) for lag in plan.lags)
    step(f"{members} LAG member links, exchange LAN with {len(plan.lan_ports)} ports")

    first = plan.lags[0].a_node if plan.lags else plan.nodes[0].name
    state.lag_driver = select.choose(runtime.iproute(first))
    labdir.write_state(state)
    driver = _driver(state.lag_driver, runtime, labdir)
    lab.driver = driver
    run.lab = lab
    run.starting += [starter.submit(automation.start_daemon, lab, n) for n in daemons
                     if n not in early]
    starter.shutdown(wait=False)
    # Each edge's ExaBGP, with no neighbor of the peer's yet: ready by the time the LAGs are
    # (a link gets its neighbors then, emulator.lab.automation.edge_configures_bgp).
    automation.start_speakers(runtime, plan, labdir)
    lag_nodes = [n for n in plan.nodes if plan.lags_of(n.name)]
    # Microsoft's ports, and the peer's LACP too unless a rehearsal holds before lag-up.
    lacp_now = lag_nodes if run.allows(Step.LAG_UP) else automation.edge_lag_nodes(plan)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: driver.prepare(n, list(plan.lags_of(n.name))), lag_nodes))
    automation.start_lacp(lab, lacp_now)
    step(f"{len(plan.lags)} LAGs configured ({state.lag_driver}, LACP)"
         + ("" if run.allows(Step.LAG_UP) else "; the peer's LACP is held"))
    portal.ports_configured(labdir, plan)

    deferred = (() if run.allows(Step.LAG_UP) else (holds.PEER_LAGS,)) + (
        () if peer_bgp else (holds.PEER_BGP,))
    holds.write(labdir.path, holds.held(run.hold.turnup, None, deferred))
    return lab


def _hold(labdir: LabDir, turnup: str, pause_at: Step | None, reached: Step) -> None:
    """Record where the automation stopped: held at `reached` for a rehearsal, else at its end."""
    deferred = holds.read(labdir.path).deferred
    holds.write(labdir.path, holds.held(turnup, reached if pause_at else None, deferred))
    if pause_at is not None:
        labdir.event(EventKind.TURNUP_HELD, step=reached.value)


def resume(name: str, to: Step | None = None, progress: Progress = lambda _: None) -> Lab:
    """Take the turn-up's next steps from where it is held, up to `to` (default: its end).

    A lab that is not held but has links without BGP (their LAG never came up) resumes at
    bgp-configured: once the LAG is fixed in place, the edge automation configures BGP there.
    """
    started = time.monotonic()

    def step(text: str) -> None:
        progress(f"[{time.monotonic() - started:6.2f}s] {text}")

    labdir = LabDir(name)
    state = labdir.read_state()
    hold = holds.read(labdir.path)
    to = holds.parse_step(to, hold.turnup) if to is not None else None
    after = hold.step
    if after is None:
        unconfigured = {lag.name for lag in recorded_plan(labdir).lags} - \
            automation.configured_lags(labdir)
        if not unconfigured:
            raise LabStateError(f"lab {name!r} is not held: its turn-up ran to the end")
        after = Step.LAG_UP
    target = to or hold.last_step()
    if target < after or (target == after and to is not None):
        raise UsageError(f"--to {target}: lab {name!r} is held at {after}, past that step; "
                         f"the next is {holds.following(after)}")
    topo = load(labdir.path / "topology.yaml")
    lab = open_lab(name)
    run = automation.Run(lab, topo, holds.held(hold.turnup, target if to else None), step)
    labdir.event(EventKind.TURNUP_CONTINUED, step=after.value, to=target.value)
    try:
        reached = automation.advance(run, after)
    except BaseException:
        lab.close()
        raise
    _hold(labdir, hold.turnup, to if to != hold.last_step() else None, reached)
    state.phase = "up" if to in (None, hold.last_step()) else f"held at {reached}"
    labdir.write_state(state)
    step(f"turn-up held at {reached}: `mapslab continue {name}` takes the next step"
         if state.phase != "up" else
         "turn-up complete" if not lab.degraded else f"turn-up complete, degraded: "
         f"{lab.degraded[0]}")
    return lab


def start_monitor(lab: Lab) -> None:
    """The timeline monitor, in the LAN switch's namespace so that `down` stops it too."""
    d = lab.node_dir(lab.plan.lan_switch)
    lab.runtime.spawn(lab.plan.lan_switch,
                      [exabgp.sys.executable, "-m", "emulator.lab.monitor", lab.plan.lab],
                      d / "monitor.log",
                      env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])})
