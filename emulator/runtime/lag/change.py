"""Change a running LAG's LACP in place, on one router: its activity (active, passive, off)
and its rate (fast, slow).

IEEE 802.1AX-2014 6.4.13 (Activity): an active port transmits LACPDUs on its own, a passive one
only in answer, so two passive ends never aggregate; a port without LACP (off) sends none, and
its partner takes the member out once the partner information times out (6.4.12, 6.4.4).
6.4.2.3 LACP_Timeout: fast (Short_Timeout_Time, 3 s) or slow (Long_Timeout_Time, 90 s).

Open vSwitch: `ovs-vsctl set port BOND lacp=...` and `other_config:lacp-time=...` (its manual,
vswitchd.conf.db(5)). A kernel 802.3ad bond: RTM_NEWLINK with IFLA_BOND_AD_LACP_ACTIVE and
IFLA_BOND_AD_LACP_RATE (Linux 5.15+); a kernel 802.3ad bond always runs LACP, so `off` is
refused there.
"""
from __future__ import annotations

from typing import Any

from emulator.core.errors import UsageError
from emulator.plan.model import Lag
from emulator.runtime.lag.ovs import OvsLagDriver, bond_port

MODES = ("active", "passive", "off")
RATES = ("fast", "slow")


def ovs_lacp(driver: OvsLagDriver, node: str, lag: Lag, mode: str) -> list[str]:
    """The ovs-vsctl arguments that set the bond's LACP mode. Without LACP the bond forwards
    on one member (active-backup), as the lab builds an `off` bond."""
    args = ["set", "port", bond_port(lag), f"lacp={mode}"]
    if mode == "off":
        members = lag.member_ifnames(node)
        args += ["bond_mode=active-backup", f"other_config:bond-primary={members[0]}"]
    else:
        args += ["bond_mode=balance-tcp"]
    return args


def ovs_mode(driver: OvsLagDriver, node: str, lag: Lag) -> str:
    """The bond's LACP mode as the database holds it."""
    found = driver.runtime.run(node, driver._vsctl(node, "get", "port", bond_port(lag), "lacp"),
                               check=False).stdout.strip().strip('"')
    return found or "off"


def restart_passive_pair(driver: OvsLagDriver, lag: Lag) -> None:
    """Both ends passive: no periodic LACPDUs and no aggregation (IEEE 802.1AX-2014 6.4.13,
    NO_PERIODIC). Open vSwitch keeps transmitting on a passive port whose partner information
    is current (lib/lacp.c), so LACP restarts on both ends, each then waiting for the other."""
    for mode in ("off", "passive"):
        for node in (lag.a_node, lag.b_node):
            driver.runtime.run(node, driver._vsctl(node, *ovs_lacp(driver, node, lag, mode)))


def ovs_rate(lag: Lag, rate: str) -> list[str]:
    return ["set", "port", bond_port(lag), f"other_config:lacp-time={rate}"]


def bond_lacp_request(lag: Lag, mode: str) -> dict[str, Any]:
    """The RTM_NEWLINK attributes that make a kernel bond LACP active or passive."""
    if mode == "off":
        raise UsageError(f"lacp off on LAG {lag.name}: a kernel 802.3ad bond always runs LACP; "
                         f"use passive, or a lab on Open vSwitch (MAPSLAB_LAG=openvswitch)")
    return {"ifname": lag.ifname, "kind": "bond", "bond_ad_lacp_active": 0 if mode == "passive"
            else 1}


def bond_rate_request(lag: Lag, rate: str) -> dict[str, Any]:
    return {"ifname": lag.ifname, "kind": "bond", "bond_ad_lacp_rate": 1 if rate == "fast" else 0}


def check(what: str, value: str) -> None:
    choices = MODES if what == "lacp" else RATES
    if value not in choices:
        raise UsageError(f"{what} {value!r}: choose {', '.join(choices)}")


def apply(driver: Any, node: str, lag: Lag, what: str, value: str) -> None:
    """Set `lacp` (a mode) or `rate` on one router's end of a LAG, through the lab's driver."""
    check(what, value)
    if isinstance(driver, OvsLagDriver):
        args = ovs_lacp(driver, node, lag, value) if what == "lacp" else ovs_rate(lag, value)
        driver.runtime.run(node, driver._vsctl(node, *args))
        if (what, value) == ("lacp", "passive") and \
                ovs_mode(driver, lag.far_node(node), lag) == "passive":
            restart_passive_pair(driver, lag)
        return
    request = bond_lacp_request(lag, value) if what == "lacp" else bond_rate_request(lag, value)
    ipr = driver.netlink_for(node)
    ipr.link("set", index=ipr.link_lookup(ifname=lag.ifname)[0],
             **{k: v for k, v in request.items() if k != "ifname"})
