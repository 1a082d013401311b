"""What a rendered lab holds, read back from its files: the test oracle that the rendering carries
the plan (nodes, links, addresses, bonds, the LAN bridge, sessions).

It reads maps-lab's own output with regular expressions, so it lives with the tests, not in the
runtime. plan_summary() computes the same from the plan alone, independently of the renderer.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from emulator.plan.model import Plan
from emulator.runtime.containerlab.overrides import NodeOverride


@dataclass(frozen=True, order=True)
class Link:
    """A point-to-point link, endpoints "node:ifname" in sorted order."""

    a: str
    b: str

    @classmethod
    def of(cls, one: str, other: str) -> Link:
        return cls(*sorted((one, other)))


@dataclass(frozen=True, order=True)
class Address:
    node: str
    ifname: str
    address: str            # with prefix length


@dataclass(frozen=True, order=True)
class Aggregate:
    """A bond (IEEE 802.1AX LAG) or the LAN bridge, with its member ports in order."""

    node: str
    ifname: str
    kind: str               # bond | bridge
    members: tuple[str, ...]


@dataclass(frozen=True, order=True)
class SessionEnd:
    """One side's view of a BGP session (RFC 4271): itself and its neighbor."""

    node: str
    local_asn: int
    local_address: str
    peer_asn: int
    peer_address: str


@dataclass(frozen=True)
class LabSummary:
    nodes: tuple[str, ...]
    links: tuple[Link, ...]
    addresses: tuple[Address, ...]
    aggregates: tuple[Aggregate, ...]
    sessions: tuple[SessionEnd, ...]


_IP_ADDRESS = re.compile(r"^\s*ip address add (\S+) dev (\S+)", re.M)
_IP_BOND = re.compile(r"^\s*ip link add (\S+) type (bond|bridge)\b", re.M)
_IP_MASTER = re.compile(r"^\s*ip link set (\S+) master (\S+)", re.M)


def _script_facts(node: str, text: str) -> tuple[list[Address], list[Aggregate]]:
    addresses = [Address(node, ifname, address) for address, ifname in _IP_ADDRESS.findall(text)]
    masters = {name: kind for name, kind in _IP_BOND.findall(text)}
    members: dict[str, list[str]] = {name: [] for name in masters}
    for port, master in _IP_MASTER.findall(text):
        members.setdefault(master, []).append(port)
    aggregates = [Aggregate(node, name, masters.get(name, "?"), tuple(ports))
                  for name, ports in members.items()]
    return addresses, aggregates


def frr_session_ends(node: str, text: str, addresses: Sequence[Address]) -> list[SessionEnd]:
    """Sessions of a bgpd.conf; the local address is the node's in the neighbor's subnet."""
    router = re.search(r"^router bgp (\d+)", text, re.M)
    assert router is not None, f"{node}: bgpd.conf has no 'router bgp'"
    asn = int(router.group(1))
    ends = []
    for peer, peer_asn in re.findall(r"^ neighbor (\S+) remote-as (\d+)", text, re.M):
        local = next((a.address.split("/")[0] for a in addresses if a.node == node
                      and ipaddress.ip_address(peer) in ipaddress.ip_interface(a.address).network),
                     "?")
        ends.append(SessionEnd(node, asn, local, int(peer_asn), peer))
    return ends


def bird_session_ends(node: str, text: str) -> list[SessionEnd]:
    pattern = r"^\s*local (\S+) as (\d+);\s*\n\s*neighbor (\S+) as (\d+);"
    return [SessionEnd(node, int(asn), local, int(peer_asn), peer)
            for local, asn, peer, peer_asn in re.findall(pattern, text, re.M)]


def exabgp_session_ends(node: str, text: str) -> list[SessionEnd]:
    ends = []
    for peer, body in re.findall(r"^neighbor (\S+) \{(.*?)^\}", text, re.M | re.S):

        def value(key: str) -> str:
            found = re.search(rf"^\s*{key} (\S+);", body, re.M)
            return found.group(1) if found else "?"

        ends.append(SessionEnd(node, int(value("local-as")), value("local-address"),
                               int(value("peer-as")), peer))
    return ends


def summarize(topology_file: Path) -> LabSummary:
    """Nodes, links, addresses, aggregates and sessions, as the rendered files define them."""
    out_dir = Path(topology_file).parent
    document = yaml.safe_load(Path(topology_file).read_text())
    nodes = tuple(document["topology"]["nodes"])
    links = sorted(Link.of(*entry["endpoints"]) for entry in document["topology"].get("links", []))
    addresses: list[Address] = []
    aggregates: list[Aggregate] = []
    sessions: list[SessionEnd] = []
    for name in nodes:
        script = out_dir / "nodes" / name / "start.sh"
        if script.exists():
            found, bundles = _script_facts(name, script.read_text())
            addresses += found
            aggregates += bundles
    for name in nodes:
        directory = out_dir / "nodes" / name
        if (directory / "frr" / "bgpd.conf").exists():
            sessions += frr_session_ends(name, (directory / "frr" / "bgpd.conf").read_text(),
                                         addresses)
        if (directory / "bird" / "bird.conf").exists():
            sessions += bird_session_ends(name, (directory / "bird" / "bird.conf").read_text())
        for conf in sorted(directory.glob("*/exabgp.conf")):
            sessions += exabgp_session_ends(name, conf.read_text())
    return LabSummary(nodes, tuple(links), tuple(sorted(addresses)), tuple(sorted(aggregates)),
                      tuple(sorted(sessions)))


def plan_summary(plan: Plan, overrides: Mapping[str, NodeOverride] | None = None) -> LabSummary:
    """What a rendering of the plan must hold, computed from the plan alone."""
    overrides = overrides or {}

    def end(node: str, ifname: str) -> str:
        renamed = overrides[node].interfaces if node in overrides else {}
        return f"{node}:{renamed.get(ifname, ifname)}"

    addresses: list[Address] = []
    aggregates: list[Aggregate] = []
    for lag in plan.lags:
        for node, members, v4, v6 in (
                (lag.a_node, [m.a_ifname for m in lag.members], lag.a_ipv4, lag.a_ipv6),
                (lag.b_node, [m.b_ifname for m in lag.members], lag.b_ipv4, lag.b_ipv6)):
            addresses += [Address(node, lag.ifname, v4), Address(node, lag.ifname, v6)]
            aggregates.append(Aggregate(node, lag.ifname, "bond", tuple(members)))
    for port in plan.lan_ports:
        addresses += [Address(port.node, port.ifname, port.ipv4),
                      Address(port.node, port.ifname, port.ipv6)]
    for link in plan.links:
        addresses += [Address(link.a_node, link.a_ifname, link.a_ipv4),
                      Address(link.a_node, link.a_ifname, link.a_ipv6),
                      Address(link.b_node, link.b_ifname, link.b_ipv4),
                      Address(link.b_node, link.b_ifname, link.b_ipv6)]
    for node in plan.nodes:
        addresses += [Address(node.name, "lo", e) for e in node.endpoints]
    aggregates.append(Aggregate(plan.lan_switch, "br0", "bridge",
                                tuple(p.switch_ifname for p in plan.lan_ports)))
    links = [Link.of(end(lag.a_node, m.a_ifname), end(lag.b_node, m.b_ifname))
             for lag in plan.lags for m in lag.members]
    links += [Link.of(end(p.node, p.ifname), end(plan.lan_switch, p.switch_ifname))
              for p in plan.lan_ports]
    links += [Link.of(end(l.a_node, l.a_ifname), end(l.b_node, l.b_ifname)) for l in plan.links]
    sessions = []
    for s in plan.sessions:
        sessions += [SessionEnd(s.a_node, s.a_asn, s.a_address, s.b_asn, s.b_address),
                     SessionEnd(s.b_node, s.b_asn, s.b_address, s.a_asn, s.a_address)]
    return LabSummary(tuple(n.name for n in plan.nodes), tuple(sorted(links)),
                      tuple(sorted(addresses)), tuple(sorted(aggregates)), tuple(sorted(sessions)))
