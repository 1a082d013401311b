"""Intent → lab plan: names every node, interface, address and BGP session.

Pure: reads the Microsoft prefix set from disk and nothing else; runtimes execute the result.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from emulator.core import names
from emulator.core.errors import PlanError
from emulator.core.labdir import LabDir
from emulator.core.page import MICROSOFT_ASN
from emulator.topology.intent import Topology
from emulator.topology.generated import (EDGES_PER_LOCATION, INTERNET_NAME,  # noqa: F401
                                        SWITCH_NAME, edge_name)
from emulator.topology.loader import load
from emulator.plan.model import (BgpSession, Lag, LagMember, LanPort, Link, Node, Plan,
                           Role, Timers)

DATA_DIR = Path(__file__).resolve().parents[2] / "lab"
SESSION_POOL_V4 = ipaddress.ip_network("198.18.0.0/24")
SESSION_POOL_V6 = ipaddress.ip_network("2001:db8:ffff::/64")
# The rest of the internet, as one BIRD speaker (RFC 5398 documentation ASN): it proves that
# Microsoft announces its own prefixes and never re-advertises the peer's.
INTERNET_ASN = 65551
INTERNET_POOL_V4 = ipaddress.ip_network("198.18.1.0/24")
INTERNET_POOL_V6 = ipaddress.ip_network("2001:db8:fffe::/64")


def load_prefix_set(name: str) -> tuple[str, ...]:
    """Read a prefix set (one prefix a line, '#' comments) from the lab data folder."""
    path = Path(name) if Path(name).is_absolute() else DATA_DIR / name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PlanError(f"cannot read the Microsoft prefix set {path}: {exc}") from None
    prefixes = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            prefixes.append(str(ipaddress.ip_network(text, strict=True)))
        except ValueError as exc:
            raise PlanError(f"{path}:{number}: {exc}") from None
    return tuple(prefixes)


def _pairs(pool: ipaddress.IPv4Network | ipaddress.IPv6Network, taken: set[str],
           what: str) -> Iterator[str]:
    """Free point-to-point subnets of `pool`, skipping any that overlaps a declared one; a plan
    that needs more than the pool holds is refused (never a bare StopIteration)."""
    size = 31 if pool.version == 4 else 127
    declared = [ipaddress.ip_network(t, strict=False) for t in taken]
    for subnet in pool.subnets(new_prefix=size):
        if not any(subnet.version == d.version and subnet.overlaps(d) for d in declared):
            yield str(subnet)
    raise PlanError(f"{what}: the pool {pool} has no free /{size} left; declare the "
                    f"addresses of some links (connections[].links[].ipv{pool.version})")


def _ends(subnet: str) -> tuple[str, str]:
    """Peer end first, Microsoft end second (RFC 3021 /31, RFC 6164 /127)."""
    net = ipaddress.ip_network(subnet)
    return (f"{net[0]}/{net.prefixlen}", f"{net[1]}/{net.prefixlen}")


def first_host(prefix: str) -> str:
    """The endpoint a prefix's hosts are probed at: its first address, as a host route.

    A /32 or /128 holds one address, the host itself (RFC 4632 3.1: a host route)."""
    net = ipaddress.ip_network(prefix)
    first = net[0] if net.num_addresses == 1 else net[1]
    return f"{first}/{net.max_prefixlen}"


def _endpoints(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(first_host(p) for p in prefixes)


def _bare(address: str) -> str:
    return address.split("/", 1)[0]


def config_path(config: str | None, base_dir: Path | None) -> str | None:
    """A node's own configuration file, relative to the topology file's folder."""
    if config is None:
        return None
    path = Path(config)
    return str(path if path.is_absolute() or base_dir is None else (base_dir / path).resolve())


def resolve(topo: Topology, base_dir: Path | None = None) -> Plan:
    """The lab plan; base_dir is the topology file's folder (for `config:` paths)."""
    nodes: list[Node] = []
    taken_v4 = {link.ipv4 for c in topo.connections for link in c.links if link.ipv4}
    taken_v6 = {link.ipv6 for c in topo.connections for link in c.links if link.ipv6}
    free_v4 = _pairs(SESSION_POOL_V4, taken_v4, "interconnect link addresses")
    free_v6 = _pairs(SESSION_POOL_V6, taken_v6, "interconnect link addresses")
    peer_prefixes = tuple(p.prefix for p in topo.peering.prefixes)

    lan4 = ipaddress.ip_network(topo.exchange.lan_ipv4)
    lan6 = ipaddress.ip_network(topo.exchange.lan_ipv6)
    lan_members = ([topo.exchange.route_server.name] + [r.name for r in topo.routers]
                   + [m.name for m in topo.exchange.members])
    if len(lan_members) > lan4.num_addresses - 2:
        raise PlanError(f"exchange.lan-ipv4 {lan4} is too small for {len(lan_members)} nodes")
    lan_ports = []
    hosts4, hosts6 = lan4.hosts(), lan6.hosts()
    for index, name in enumerate(lan_members):
        lan_ports.append(LanPort(name, "ix0", f"port{index}",
                                 f"{next(hosts4)}/{lan4.prefixlen}", f"{next(hosts6)}/{lan6.prefixlen}"))
    lan_address = {p.node: p for p in lan_ports}

    rs = topo.exchange.route_server
    nodes.append(Node(rs.name, Role.ROUTE_SERVER, rs.software, rs.asn,
                      _bare(lan_address[rs.name].ipv4), config=config_path(rs.config, base_dir)))
    for router in topo.routers:
        nodes.append(Node(router.name, Role.PEER_ROUTER, router.software, topo.peering.peer_asn,
                          _bare(lan_address[router.name].ipv4), router.location, router.lacp,
                          router.max_prefix, peer_prefixes, _endpoints(peer_prefixes),
                          config_path(router.config, base_dir),
                          router.stateful_firewall, router.rate_limit))
    for member in topo.exchange.members:
        nodes.append(Node(member.name, Role.MEMBER, member.software, member.asn,
                          _bare(lan_address[member.name].ipv4),
                          announces=tuple(p.prefix for p in member.prefixes),
                          endpoints=_endpoints(tuple(p.prefix for p in member.prefixes)),
                          config=config_path(member.config, base_dir)))
    for loc_index, location in enumerate(topo.locations):
        for index in range(1, EDGES_PER_LOCATION + 1):
            nodes.append(Node(edge_name(location.name, index), Role.EDGE, "exabgp", MICROSOFT_ASN,
                              f"10.80.{75 + loc_index}.{index}", location.name,
                              topo.microsoft.lacp, max_prefix=topo.microsoft.max_prefix))
    microsoft_prefixes = load_prefix_set(topo.microsoft.prefix_set)
    # Microsoft's services are anycast: every edge router answers for the same addresses.
    microsoft_endpoints = tuple(first_host(next(p for p in microsoft_prefixes if (":" in p) == v6))
                                for v6 in (False, True)
                                if any((":" in p) == v6 for p in microsoft_prefixes))
    nodes = [n if n.role is not Role.EDGE else replace(n, endpoints=microsoft_endpoints)
             for n in nodes]
    nodes.append(Node(SWITCH_NAME, Role.SWITCH, "bridge", None, None))
    links: list[Link] = []
    if topo.microsoft.internet:
        nodes.append(Node(INTERNET_NAME, Role.INTERNET, "bird", INTERNET_ASN, "10.80.74.1"))
        pairs4 = _pairs(INTERNET_POOL_V4, taken_v4, "edge-to-internet link addresses")
        pairs6 = _pairs(INTERNET_POOL_V6, taken_v6, "edge-to-internet link addresses")
        for index, edge in enumerate(n for n in nodes if n.role is Role.EDGE):
            (i4, e4), (i6, e6) = _ends(next(pairs4)), _ends(next(pairs6))
            links.append(Link(edge.name, "inet0", e4, e6, INTERNET_NAME, f"edge{index}", i4, i6))

    lags: list[Lag] = []
    sessions: list[BgpSession] = []
    for conn in topo.connections:
        for index, link in enumerate(conn.links):
            v4 = link.ipv4 or next(free_v4)
            v6 = link.ipv6 or next(free_v6)
            (a4, b4), (a6, b6) = _ends(v4), _ends(v6)
            edge = edge_name(conn.location, index % EDGES_PER_LOCATION + 1)
            number = len(lags)
            ifname = f"lag{number}"
            lag = Lag(f"{conn.name}-{chr(ord('a') + index)}", conn.name, link.peer_router, edge,
                      ifname,
                      tuple(LagMember(f"{ifname}m{m}", f"{ifname}m{m}", conn.lag.member_speed_gbps)
                            for m in range(1, conn.lag.members + 1)),
                      conn.lag.lacp_rate, a4, b4, a6, b6)
            lags.append(lag)
            for family, a, b in (("ipv4", a4, b4), ("ipv6", a6, b6)):
                sessions.append(BgpSession(f"{lag.name}-{family[-2:]}", family, link.peer_router,
                                           _bare(a), topo.peering.peer_asn, edge, _bare(b),
                                           MICROSOFT_ASN, lag.name, conn.md5_key or ""))

    def lan_session(name: str, a: str, a_asn: int, b: str, b_asn: int) -> None:
        for family in ("ipv4", "ipv6"):
            a_port, b_port = lan_address[a], lan_address[b]
            sessions.append(BgpSession(f"{name}-{family[-2:]}", family, a,
                                       _bare(getattr(a_port, family)), a_asn, b,
                                       _bare(getattr(b_port, family)), b_asn))

    for router in topo.routers:
        lan_session(f"{router.name}-rs", router.name, topo.peering.peer_asn, rs.name, rs.asn)
    for member in topo.exchange.members:
        lan_session(f"{member.name}-rs", member.name, member.asn, rs.name, rs.asn)
    for link in links:
        for family in ("ipv4", "ipv6"):
            sessions.append(BgpSession(f"{link.a_node}-internet-{family[-2:]}", family, link.a_node,
                                       _bare(getattr(link, f"a_{family}")), MICROSOFT_ASN,
                                       link.b_node, _bare(getattr(link, f"b_{family}")),
                                       INTERNET_ASN))
    # iBGP between the peer routers, so that either interconnect link can carry any flow.
    for i, first in enumerate(topo.routers):
        for second in topo.routers[i + 1:]:
            lan_session(f"{first.name}-{second.name}", first.name, topo.peering.peer_asn,
                        second.name, topo.peering.peer_asn)

    _check_names(nodes, lags, lan_ports, links)
    activated = tuple(p.prefix for p in topo.peering.prefixes if p.activated) + tuple(
        p.prefix for m in topo.exchange.members for p in m.prefixes if p.activated)
    return Plan(
        lab=topo.lab,
        peer_asn=topo.peering.peer_asn,
        nodes=tuple(nodes),
        lags=tuple(lags),
        lan_switch=SWITCH_NAME,
        lan_ports=tuple(lan_ports),
        sessions=tuple(sessions),
        microsoft_prefixes=microsoft_prefixes,
        microsoft_endpoints=microsoft_endpoints,
        edge_waits_for_lacp=topo.microsoft.bgp_waits_for_lacp,
        links=tuple(links),
        registered_asns=tuple(r.asn for r in topo.registered_asns),
        edge_max_prefix=topo.microsoft.max_prefix,
        timers=Timers(topo.bgp.keepalive, topo.bgp.hold),
        activated_prefixes=activated,
    )


def _check_names(nodes: list[Node], lags: list[Lag], ports: list[LanPort],
                 links: list[Link]) -> None:
    seen: set[str] = set()
    for node in nodes:
        if node.name in seen:
            raise PlanError(f"node name {node.name!r} is used twice (Microsoft edge routers are "
                            f"named <location>-ms1 and <location>-ms2)")
        seen.add(node.name)
    ifnames = [lag.ifname for lag in lags] + [m.a_ifname for lag in lags for m in lag.members]
    ifnames += [p.ifname for p in ports] + [p.switch_ifname for p in ports]
    ifnames += [name for link in links for name in (link.a_ifname, link.b_ifname)]
    for ifname in ifnames:
        problem = names.ifname_problem(ifname)
        if problem:
            raise PlanError(problem)


def recorded_plan(labdir: LabDir) -> Plan:
    """The plan of a running lab, from the copy of its topology kept in its directory; `config:`
    paths stay relative to where the topology file was when the lab was built."""
    state = labdir.read_state()
    return resolve(load(labdir.path / "topology.yaml"), Path(state.topology).parent)
