"""The LAG driver of a deployed containerlab lab: each end's kernel bond, read from the
container's /proc/net/bonding/<bond> through `docker exec ... cat` and parsed by
emulator.runtime.lag.procfs (the same LagState as the netlink reader of the embedded runtime).

start.sh builds the bonds when containerlab deploys the lab, so this driver only observes:
prepare() and start() refuse.
"""
from __future__ import annotations

import subprocess

from emulator.core.errors import RuntimeUnavailable
from emulator.nodes.base import Host, OBSERVE_TIMEOUT
from emulator.plan.model import Lag, Node
from emulator.runtime.lag import procfs
from emulator.runtime.lag.state import LagState


class DockerBondDriver:
    """Reads LAG state in the nodes' containers; a bond that is not there has no members."""

    name = "kernel-bond"

    def __init__(self, host: Host):
        self.host = host

    def prepare(self, node: Node, lags: list[Lag]) -> None:
        raise RuntimeUnavailable(f"{node.name}: a containerlab lab's bonds are built by start.sh "
                                 f"at deploy (re-render and `containerlab deploy`)")

    def start(self, node: Node, lags: list[Lag]) -> None:
        self.prepare(node, lags)

    def observe(self, node: str, lag: Lag) -> LagState:
        path = procfs.PROC_NET_BONDING / lag.ifname
        try:
            result = self.host.run(node, ["cat", str(path)], check=False,
                                   timeout=OBSERVE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return procfs.parse(node, lag.ifname, "")
        return procfs.parse(node, lag.ifname, result.stdout if result.returncode == 0 else "")
