"""Scenarios that stop whole routers, as a power failure would: links first, then daemons.

Recovery starts them the way `up` did: the peer router's program from the node registry, the
edge's ExaBGP through the edge automation (which waits for the LAG before it configures BGP).
"""
from __future__ import annotations

import os
import signal
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import Fault, OutageScenario
from emulator.judge.scenarios.links import set_links
from emulator.nodes import exabgp, registry
from emulator.plan.model import Role

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab

# The pid files of the peer-router programs the lab starts (FRR's zebra and bgpd, BIRD,
# OpenBGPD's bgpd, GoBGP's gobgpd).
PEER_ROUTER_PIDFILES = ("bgpd.pid", "zebra.pid", "bird.pid", "gobgpd.pid")


def interfaces(lab: Lab, node: str) -> list[str]:
    """The router's interconnect and exchange LAN interfaces."""
    names = []
    for lag in lab.plan.lags_of(node):
        names += lag.member_ifnames(node)
    if lab.plan.lan_port(node):
        names.append(lab.plan.lan_port(node).ifname)
    return names


def _kill_pidfiles(paths: list[Path]) -> None:
    for path in paths:
        try:
            os.kill(int(path.read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


def stop(lab: Lab, node: str) -> None:
    # Links first, so the dead router's TCP sockets close silently: its neighbours notice by
    # their hold timers (RFC 4271 6.5), as they would a power failure.
    set_links(lab, node, interfaces(lab, node), "down")
    d = lab.node_dir(node)
    if lab.plan.node(node).role is Role.PEER_ROUTER:
        _kill_pidfiles([d / name for name in PEER_ROUTER_PIDFILES])
    else:
        _kill_pidfiles(sorted(d.glob("*/exabgp.pid")))


def start(lab: Lab, node: str) -> None:
    from emulator.lab.lifecycle import edge_automation     # the lab lifecycle is slow to import
    set_links(lab, node, interfaces(lab, node), "up")
    spec = lab.plan.node(node)
    if spec.role is Role.PEER_ROUTER:
        registry.kind_of(spec).start(lab.runtime, lab.plan, spec, lab.node_dir(node))
        return
    if lab.plan.links_of(node):
        exabgp.start_internet(lab.runtime, lab.plan, spec, lab.node_dir(node) / "internet")
    for lag in lab.plan.lags_of(node):
        edge_automation(lab, lag)


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
        for node in self.routers(lab, fault.target):
            start(lab, node)
