"""The resolved lab plan: every node, link, address and session, ready for a runtime.

Produced by emulator.plan.resolve from the intent; consumed by every runtime (network namespaces,
containerlab). Nothing here knows how it will be executed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum



class Role(str, Enum):
    PEER_ROUTER = "peer-router"
    EDGE = "microsoft-edge"
    ROUTE_SERVER = "route-server"
    MEMBER = "member"
    SWITCH = "exchange-lan"
    INTERNET = "internet"


@dataclass(frozen=True)
class Node:
    name: str
    role: Role
    software: str            # a node kind of emulator.nodes.registry: frr, bird, exabgp, ...
    asn: int | None
    router_id: str | None
    location: str | None = None
    lacp: str = "active"     # active | passive | off, for nodes that terminate LAGs
    max_prefix: int | None = None
    announces: tuple[str, ...] = ()   # prefixes this node originates
    endpoints: tuple[str, ...] = ()   # host addresses (with /32 or /128) on its loopback
    config: str | None = None         # the user's own configuration file (absolute), if any
    stateful_firewall: bool = False   # the topology's flags: emulator.nodes.firewall sets them up
    rate_limit: bool = False


@dataclass(frozen=True)
class LagMember:
    """One member link of a LAG: a veth pair between the two routers (IEEE 802.1AX 6.2)."""

    a_ifname: str
    b_ifname: str
    speed_gbps: int


@dataclass(frozen=True)
class Lag:
    """An interconnect link: peer router (a) to Microsoft edge router (b), as a LAG."""

    name: str                # e.g. sea-1-a
    connection: str
    a_node: str
    b_node: str
    ifname: str              # the bundle's interface name, the same on both routers
    members: tuple[LagMember, ...]
    lacp_rate: str           # fast | slow
    a_ipv4: str              # address/prefixlen
    b_ipv4: str
    a_ipv6: str
    b_ipv6: str

    def member_ifnames(self, node: str) -> tuple[str, ...]:
        """The member interfaces at `node`'s end of the bundle."""
        return tuple(m.a_ifname if node == self.a_node else m.b_ifname for m in self.members)

    def addresses(self, node: str) -> tuple[str, str]:
        """(IPv4, IPv6) with prefix lengths at `node`'s end."""
        return (self.a_ipv4, self.a_ipv6) if node == self.a_node else (self.b_ipv4, self.b_ipv6)

    def far_node(self, node: str) -> str:
        return self.b_node if node == self.a_node else self.a_node


@dataclass(frozen=True)
class Link:
    """A routed point-to-point link (a veth pair), e.g. a Microsoft edge to the internet."""

    a_node: str
    a_ifname: str
    a_ipv4: str
    a_ipv6: str
    b_node: str
    b_ifname: str
    b_ipv4: str
    b_ipv6: str


@dataclass(frozen=True)
class LanPort:
    """A node's port on the exchange LAN (a veth to the LAN switch)."""

    node: str
    ifname: str
    switch_ifname: str
    ipv4: str
    ipv6: str


@dataclass(frozen=True)
class BgpSession:
    """One BGP session (RFC 4271) between two nodes over one address family."""

    name: str
    family: str              # ipv4 | ipv6
    a_node: str
    a_address: str           # without prefixlen
    a_asn: int
    b_node: str
    b_address: str
    b_asn: int
    lag: str | None = None   # the interconnect LAG it runs over, if any
    md5_key: str = field(default="", repr=False)   # TCP MD5 key (RFC 2385), "" for none: a secret

    @property
    def interconnect(self) -> bool:
        return self.lag is not None


@dataclass(frozen=True)
class Timers:
    keepalive: int
    hold: int


@dataclass(frozen=True)
class Plan:
    lab: str
    peer_asn: int
    nodes: tuple[Node, ...]
    lags: tuple[Lag, ...]
    lan_switch: str
    lan_ports: tuple[LanPort, ...]
    sessions: tuple[BgpSession, ...]
    microsoft_prefixes: tuple[str, ...]
    registered_asns: tuple[int, ...]
    edge_max_prefix: int
    timers: Timers
    activated_prefixes: tuple[str, ...] = field(default=())
    microsoft_endpoints: tuple[str, ...] = field(default=())   # anycast service addresses
    edge_waits_for_lacp: bool = True
    links: tuple[Link, ...] = field(default=())

    def links_of(self, node: str) -> tuple[Link, ...]:
        return tuple(link for link in self.links if node in (link.a_node, link.b_node))

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def nodes_with(self, role: Role) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role is role)

    def lags_of(self, node: str) -> tuple[Lag, ...]:
        return tuple(lag for lag in self.lags if node in (lag.a_node, lag.b_node))

    def sessions_of(self, node: str) -> tuple[BgpSession, ...]:
        return tuple(s for s in self.sessions if node in (s.a_node, s.b_node))

    def exchange_prefixes(self) -> frozenset[str]:
        """Every prefix the exchange side announces (the peer's own and every member's): what
        Microsoft's edge expects to receive, and all it may receive."""
        return frozenset(p for n in self.nodes if n.role in (Role.PEER_ROUTER, Role.MEMBER)
                         for p in n.announces)

    def lan_port(self, node: str) -> LanPort | None:
        return next((p for p in self.lan_ports if p.node == node), None)
