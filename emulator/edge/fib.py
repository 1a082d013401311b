"""The edge's forwarding table: the agent installs what it accepted, so traffic follows policy."""
from __future__ import annotations

from typing import Protocol

# rtnetlink RTPROT_BGP (include/uapi/linux/rtnetlink.h): `ip route show proto bgp` lists them.
RTPROT_BGP = 186


class Fib(Protocol):
    def install(self, prefix: str, next_hop: str) -> None: ...
    def remove(self, prefix: str) -> None: ...


class KernelFib:
    """Routes in the network namespace the agent runs in (the edge router's)."""

    def __init__(self) -> None:
        from pyroute2 import IPRoute
        self.ipr = IPRoute()

    def install(self, prefix: str, next_hop: str) -> None:
        from pyroute2.netlink.exceptions import NetlinkError
        try:
            self.ipr.route("replace", dst=prefix, gateway=next_hop, proto=RTPROT_BGP)
        except (NetlinkError, OSError, ValueError):
            # Next hop not reachable (yet), or not of the prefix's family: the route stays
            # in the RIB only. pyroute2 raises OSError from inet_pton for the latter.
            pass

    def remove(self, prefix: str) -> None:
        from pyroute2.netlink.exceptions import NetlinkError
        try:
            self.ipr.route("del", dst=prefix, proto=RTPROT_BGP)
        except NetlinkError:
            pass


class NoFib:
    """For tests and dry runs: installs nothing."""

    def install(self, prefix: str, next_hop: str) -> None:
        pass

    def remove(self, prefix: str) -> None:
        pass
