"""Scenarios that stop whole routers, as a power failure would: links first, then daemons.

Recovery starts them the way `up` did: the peer router's program from the node registry, then
the edge's BGP of every link the fault took down through the edge automation, which waits for
the LAG, records `lag-up` and only then configures BGP (the page's FAQ: "After the LAG comes
up, our automated process configures BGP"). An edge speaker that is stopped records its
sessions down (`bgp-state`, reason "speaker stopped"): the speaker cannot say so itself.
"""
from __future__ import annotations

import os
import signal
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import Fault, OutageScenario
from emulator.judge.scenarios.links import set_links
from emulator.nodes import edge_bgp, registry
from emulator.plan.model import Role

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab
    from emulator.plan.model import Lag

# The pid files of the peer-router programs the lab starts (FRR's zebra, staticd and bgpd, BIRD,
# OpenBGPD's bgpd, GoBGP's gobgpd).
PEER_ROUTER_PIDFILES = ("bgpd.pid", "staticd.pid", "zebra.pid", "bird.pid", "gobgpd.pid")


def interfaces(lab: Lab, node: str) -> list[str]:
    """The router's interconnect and exchange LAN interfaces."""
    names = []
    for lag in lab.plan.lags_of(node):
        names += lag.member_ifnames(node)
    if lab.plan.lan_port(node):
        names.append(lab.plan.lan_port(node).ifname)
    return names


def _kill_pidfiles(paths: list[Path]) -> list[Path]:
    """SIGKILL each pid file's process; the pid files of the processes that were running."""
    killed = []
    for path in paths:
        try:
            os.kill(int(path.read_text().split()[0]), signal.SIGKILL)
            killed.append(path)
        except (OSError, ValueError, IndexError):
            pass
    return killed


def stop_speaker(lab: Lab, lag: Lag) -> None:
    """Take the link's neighbors out of the edge's ExaBGP and record its sessions down, if the
    speaker runs with them."""
    from emulator.lab.automation import edge_unconfigures_bgp   # the lab stage is slow to import
    edge_unconfigures_bgp(lab, lag)


def stop(lab: Lab, node: str) -> None:
    # Links first, so the dead router's TCP sockets close silently: its neighbours notice by
    # their hold timers (RFC 4271 6.5), as they would a power failure.
    set_links(lab, node, interfaces(lab, node), "down")
    d = lab.node_dir(node)
    if lab.plan.node(node).role is Role.PEER_ROUTER:
        _kill_pidfiles([d / name for name in PEER_ROUTER_PIDFILES])
        return
    from emulator.lab.automation import sessions_down    # the lab stage is slow to import
    configured = set(edge_bgp.SpeakerState.read(d).links)
    if edge_bgp.stop(d):
        for lag in lab.plan.lags_of(node):
            if lag.name in configured:
                sessions_down(lab, lag)


def start(lab: Lab, node: str) -> None:
    """Links up and the router's own program (an edge's: its ExaBGP with the sessions to the
    internet); the edge's link BGP is `reconfigure`'s."""
    set_links(lab, node, interfaces(lab, node), "up")
    spec = lab.plan.node(node)
    if spec.role is Role.PEER_ROUTER:
        registry.kind_of(spec).start(lab.runtime, lab.plan, spec, lab.node_dir(node))
    elif edge_bgp.runs_one(lab.plan, spec):
        edge_bgp.start(lab.runtime, lab.plan, spec, lab.node_dir(node), lab.dir.events_file)


def reconfigure(lab: Lab, lags: list[Lag]) -> None:
    """The edge automation brings each link's BGP back once its LAG is up, as at turn-up."""
    from emulator.lab.automation import edge_automation    # the lab stage is slow to import
    for lag in lags:
        edge_automation(lab, lag)


def restart(lab: Lab, nodes: list[str]) -> None:
    """Start stopped routers again; every link of theirs gets its BGP from the automation."""
    lags = [lag for lag in lab.plan.lags if lag.a_node in nodes or lag.b_node in nodes]
    for lag in lags:
        stop_speaker(lab, lag)           # before the links come up: no BGP ahead of LACP
    for node in nodes:
        start(lab, node)
    reconfigure(lab, lags)


class RoutersDown(OutageScenario):
    """Every router the target names stops; the traffic must move to the other path."""

    @abstractmethod
    def routers(self, lab: Lab, target: str) -> list[str]:
        """The routers the target names; FaultError when it names none."""

    def check(self, lab: Lab, target: str, member: int) -> None:
        self.routers(lab, target)

    def inject(self, lab: Lab, fault: Fault) -> None:
        for node in self.routers(lab, fault.target):
            stop(lab, node)

    def recover(self, lab: Lab, fault: Fault) -> None:
        restart(lab, self.routers(lab, fault.target))
