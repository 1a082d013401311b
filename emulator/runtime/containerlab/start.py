"""A node's start.sh, run by containerlab `exec` once its links are attached: the LAG bonds,
the exchange LAN port, routed links and loopback endpoints, the LAN's bridge, then the node's
programs (emulator.runtime.containerlab.programs, .edge)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulator.core.errors import PlanError
from emulator.plan.model import Lag, Node, Plan, Role
from emulator.runtime.containerlab import programs
from emulator.runtime.containerlab.edge import edge_start_lines
from emulator.runtime.containerlab.layout import BRIDGE, HEADER
from emulator.runtime.lag.bond import BOND_MODE_8023AD, bond_request

# ip-link(8) bond options for the RTM_NEWLINK attributes of emulator.runtime.lag.bond.bond_request,
# so both runtimes build the same bond. Values are the kernel's (include/uapi/linux/if_bonding.h).
_BOND_OPTIONS: dict[str, tuple[str, dict[int, str] | None]] = {
    "bond_mode": ("mode", {BOND_MODE_8023AD: "802.3ad"}),
    "bond_miimon": ("miimon", None),
    "bond_ad_lacp_rate": ("lacp_rate", {0: "slow", 1: "fast"}),
    "bond_ad_lacp_active": ("lacp_active", {0: "off", 1: "on"}),
    "bond_xmit_hash_policy": ("xmit_hash_policy", {0: "layer2", 1: "layer3+4", 2: "layer2+3"}),
    "bond_min_links": ("min_links", None),
}


def bond_options(request: Mapping[str, Any]) -> list[str]:
    """`ip link add NAME type bond ...` words for a bond request."""
    words: list[str] = []
    for key, value in request.items():
        if key in ("ifname", "kind"):
            continue
        if key not in _BOND_OPTIONS:
            raise PlanError(f"bond attribute {key} has no ip-link option (containerlab runtime)")
        option, names = _BOND_OPTIONS[key]
        # IEEE 802.1AX-2014 6.4.13: LACP active is the kernel's default; the option (Linux 5.15)
        # is written only for passive, so that older Docker hosts accept the rest.
        if key == "bond_ad_lacp_active" and value == 1:
            continue
        words += [option, names[value] if names else str(value)]
    return words


def lag_end(lag: Lag, node: str) -> tuple[list[str], str, str, str]:
    """Member ifnames, IPv4, IPv6 and far node of a LAG as seen from one of its ends."""
    if node == lag.a_node:
        return [m.a_ifname for m in lag.members], lag.a_ipv4, lag.a_ipv6, lag.b_node
    return [m.b_ifname for m in lag.members], lag.b_ipv4, lag.b_ipv6, lag.a_node


def _address_lines(ifname: str, addresses: Sequence[str]) -> list[str]:
    # DAD would hold an IPv6 address tentative for a second; the lab's addresses are unique.
    return [f"ip address add {a} dev {ifname}" + (" nodad" if ":" in a else "") for a in addresses]


_PREAMBLE = """\
#!/bin/sh
{header}
# {node} ({role}{asn}): run by containerlab `exec` after the node's links are attached.
set -eu"""

_HELPERS = {
    "no_bonding": """\
no_bonding() {
  echo "maps-lab: cannot create the 802.3ad bond $1: on the Docker host run 'modprobe bonding'" >&2
  exit 1
}""",
    "wait_socket": """\
# Poll for a daemon's socket for a budget of seconds (emulator.wait daemon_socket).
wait_socket() {
  tries=$(( $2 * 10 ))
  while [ ! -S "$1" ]; do
    tries=$(( tries - 1 ))
    [ "$tries" -gt 0 ] || { echo "maps-lab: $1 did not appear within $2 s" >&2; exit 1; }
    sleep 0.1
  done
}""",
}


def start_script(plan: Plan, node: Node) -> str:
    asn = f", AS{node.asn}" if node.asn is not None else ""
    lines = [_PREAMBLE.format(header=HEADER.format(lab=plan.lab), node=node.name,
                              role=node.role.value, asn=asn)]
    helpers = (("no_bonding",) if plan.lags_of(node.name) else ()) + programs.helpers(node)
    lines += [_HELPERS[name] for name in helpers]
    for lag in plan.lags_of(node.name):
        members, v4, v6, far = lag_end(lag, node.name)
        options = " ".join(bond_options(bond_request(lag, node.lacp)))
        mode = "passive" if "lacp_active off" in options else "active"
        lines += ["", f"# LAG {lag.name} to {far}: LACP {mode}, {lag.lacp_rate} rate "
                      f"(IEEE 802.1AX).",
                  "# A member is enslaved while down, then brought up.",
                  f"ip link add {lag.ifname} type bond {options} || no_bonding {lag.ifname}"]
        for member in members:
            lines += [f"ip link set {member} down", f"ip link set {member} master {lag.ifname}",
                      f"ip link set {member} up"]
        lines += _address_lines(lag.ifname, [v4, v6]) + [f"ip link set {lag.ifname} up"]
    port = plan.lan_port(node.name)
    if port is not None:
        lines += ["", f"# Exchange LAN port ({plan.lan_switch} {port.switch_ifname})"]
        lines += _address_lines(port.ifname, [port.ipv4, port.ipv6])
        lines.append(f"ip link set {port.ifname} up")
    for link in plan.links_of(node.name):
        ifname, v4, v6, far = ((link.a_ifname, link.a_ipv4, link.a_ipv6, link.b_node)
                               if link.a_node == node.name else
                               (link.b_ifname, link.b_ipv4, link.b_ipv6, link.a_node))
        lines += ["", f"# Routed link to {far}"] + _address_lines(ifname, [v4, v6])
        lines.append(f"ip link set {ifname} up")
    if node.endpoints:
        lines += ["", "# Endpoints on the loopback"] + _address_lines("lo", node.endpoints)
    if node.role is Role.SWITCH:
        ports = [p.switch_ifname for p in plan.lan_ports]
        lines += ["", "# The exchange LAN: one bridge, a port per node (never inside a LAG path)",
                  f"ip link add {BRIDGE} type bridge"]
        lines += [f"ip link set {p} master {BRIDGE} up" for p in ports]
        lines.append(f"ip link set {BRIDGE} up")
    if programs.runs_program(node):
        lines += programs.start_lines(node)
    elif node.role is Role.EDGE:
        lines += edge_start_lines(plan, node)
    return "\n".join(lines) + "\n"
