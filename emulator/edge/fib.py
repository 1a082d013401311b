"""The edge's forwarding table: the agent installs what it accepted, so traffic follows policy."""
from __future__ import annotations

from typing import Protocol

from emulator.edge.rtnetlink import Routes

# rtnetlink RTPROT_BGP (include/uapi/linux/rtnetlink.h): `ip route show proto bgp` lists them.
RTPROT_BGP = 186


class Fib(Protocol):
    def install(self, prefix: str, next_hop: str) -> None: ...
    def remove(self, prefix: str) -> None: ...


class KernelFib:
    """Routes in the network namespace the agent runs in (the edge router's)."""

    def __init__(self) -> None:
        self.routes = Routes(RTPROT_BGP)

    def install(self, prefix: str, next_hop: str) -> None:
        try:
            self.routes.replace(prefix, next_hop)
        except (OSError, ValueError):
            # Next hop not reachable (yet), or not of the prefix's family: the route stays
            # in the RIB only.
            pass

    def remove(self, prefix: str) -> None:
        try:
            self.routes.delete(prefix)
        except OSError:
            pass                # not installed (ESRCH)


class NoFib:
    """For tests and dry runs: installs nothing."""

    def install(self, prefix: str, next_hop: str) -> None:
        pass

    def remove(self, prefix: str) -> None:
        pass
