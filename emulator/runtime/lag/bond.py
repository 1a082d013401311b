"""LAGs through kernel 802.3ad bonds, where the kernel has bonding (most Linux hosts).

Kept thin: a few netlink requests through an IPRoute-like object, so that unit tests can record
them without root or a bonding module.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from emulator.runtime.lag.state import LagState, MemberState
from emulator.plan.model import Lag, Node

BOND_MODE_8023AD = 4
# IEEE 802.1AX-2014 6.4.2.3, actor/partner state bits.
LACP_ACTIVITY = 0x01
LACP_TIMEOUT = 0x02
LACP_AGGREGATION = 0x04
LACP_SYNCHRONIZATION = 0x08
LACP_COLLECTING = 0x10
LACP_DISTRIBUTING = 0x20
EOPNOTSUPP = 95


class Netlink(Protocol):
    def link(self, command: str, **kwargs: Any) -> Any: ...
    def link_lookup(self, **kwargs: Any) -> list[int]: ...
    def get_links(self, *args: Any, **kwargs: Any) -> Any: ...


def bond_request(lag: Lag, lacp: str) -> dict[str, Any]:
    """The RTM_NEWLINK attributes of one interconnect bond."""
    return {
        "ifname": lag.ifname,
        "kind": "bond",
        "bond_mode": BOND_MODE_8023AD,
        "bond_miimon": 100,
        "bond_ad_lacp_rate": 1 if lag.lacp_rate == "fast" else 0,
        # Linux 5.15+: lacp_active off is LACP passive (IEEE 802.1AX-2014 6.4.13).
        "bond_ad_lacp_active": 0 if lacp == "passive" else 1,
        "bond_xmit_hash_policy": 1,      # layer3+4, like OVS balance-tcp
        "bond_min_links": 1,
    }


class BondLagDriver:
    name = "kernel-bond"

    def __init__(self, netlink_for: Callable[[str], Netlink],
                 configure: Callable[[str, str, list[str]], None]):
        self.netlink_for = netlink_for
        self.configure = configure

    def prepare(self, node: Node, lags: list[Lag]) -> None:
        ipr = self.netlink_for(node.name)
        for lag in lags:
            ipr.link("add", **bond_request(lag, node.lacp))
            bond = ipr.link_lookup(ifname=lag.ifname)[0]
            for ifname in lag.member_ifnames(node.name):
                index = ipr.link_lookup(ifname=ifname)[0]
                # A member must be down to be enslaved.
                ipr.link("set", index=index, state="down")
                ipr.link("set", index=index, master=bond)

    def start(self, node: Node, lags: list[Lag]) -> None:
        ipr = self.netlink_for(node.name)
        for lag in lags:
            for ifname in lag.member_ifnames(node.name):
                ipr.link("set", index=ipr.link_lookup(ifname=ifname)[0], state="up")
            v4, v6 = lag.addresses(node.name)
            self.configure(node.name, lag.ifname, [v4, v6])

    def programs(self, node: str) -> list[tuple[str, Path]]:
        """None: the kernel speaks LACP for a bond (IEEE 802.1AX-2014 6.4), no process can die."""
        return []

    def restart(self, node: Node, lags: list[Lag]) -> None:
        """Nothing to restart (`programs` names none)."""

    def observe(self, node: str, lag: Lag) -> LagState:
        ipr = self.netlink_for(node)
        members = []
        for ifname in lag.member_ifnames(node):
            links = ipr.get_links(ifname=ifname)
            members.append(member_state(ifname, links[0] if links else None))
        return LagState(node, lag.ifname, tuple(members), time.time())


def _slave_data(link: Any) -> dict[str, Any]:
    info = link.get("IFLA_LINKINFO") if link is not None else None
    data = info.get("IFLA_INFO_SLAVE_DATA") if info is not None else None
    if data is None:
        return {}
    return {name: value for name, value in data.get("attrs", [])} if hasattr(data, "get") else {}


def member_state(ifname: str, link: Any) -> MemberState:
    """A bond member's LACP state from its IFLA_INFO_SLAVE_DATA (kernel bond_netlink.c)."""
    data = _slave_data(link)
    actor = int(data.get("IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE", 0))
    partner = int(data.get("IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE", 0))
    enabled = data.get("IFLA_BOND_SLAVE_STATE", 1) == 0 and data.get("IFLA_BOND_SLAVE_MII_STATUS", 1) == 0
    return MemberState(ifname, enabled, bool(actor & LACP_COLLECTING),
                       bool(actor & LACP_DISTRIBUTING), bool(partner & LACP_SYNCHRONIZATION),
                       f"actor 0x{actor:02x} partner 0x{partner:02x}")
