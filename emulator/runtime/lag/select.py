"""Which LAG implementation a host gets: kernel 802.3ad bonds if it can, Open vSwitch otherwise."""
from __future__ import annotations

import os

from emulator.core.errors import RuntimeUnavailable
from emulator.runtime.lag.bond import EOPNOTSUPP, bond_request
from emulator.plan.model import Lag

PROBE = Lag("probe", "probe", "", "", "mlprobe0", (), "fast", "", "", "", "")


def kernel_has_bonding(netlink: object) -> bool:
    """Create and delete a throw-away bond in a lab namespace; EOPNOTSUPP means no bonding."""
    from pyroute2.netlink.exceptions import NetlinkError
    try:
        netlink.link("add", **bond_request(PROBE, "active"))  # type: ignore[attr-defined]
    except NetlinkError as exc:
        if exc.code in (EOPNOTSUPP, 22):     # EINVAL: an old kernel without lacp_active
            return False
        raise
    netlink.link("del", ifname=PROBE.ifname)  # type: ignore[attr-defined]
    return True


def choose(netlink: object) -> str:
    """'kernel-bond' or 'openvswitch'; MAPSLAB_LAG forces one."""
    forced = os.environ.get("MAPSLAB_LAG", "")
    if forced in ("kernel-bond", "openvswitch"):
        return forced
    if forced:
        raise RuntimeUnavailable(f"MAPSLAB_LAG={forced!r}: use kernel-bond or openvswitch")
    return "kernel-bond" if kernel_has_bonding(netlink) else "openvswitch"
