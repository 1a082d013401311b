"""The contract between the lab and a user's own router configuration.

Per node: what the lab provides (interfaces with their addresses, the LAG bundles and their
members, the loopback endpoints), what the user's configuration must do (the BGP neighbors with
their addresses and ASNs, the prefixes to announce) and what the page expects of this router.
Pure: computed from the plan, printed by `mapslab contract`, read by the checks' messages.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from emulator.core.page import (MAX_PREFIX_MAXIMUM, MAX_PREFIX_MINIMUM, MICROSOFT_ASN,
                                MICROSOFT_PREFIXES_ROUGHLY)
from emulator.plan.model import Node, Plan, Role


@dataclass(frozen=True)
class Interface:
    """An interface the lab creates and addresses in the node; the configuration uses it as is."""

    name: str
    kind: str                       # lag | exchange-lan | loopback | routed
    addresses: tuple[str, ...]
    members: tuple[str, ...] = ()   # LAG member links (IEEE 802.1AX), for kind lag
    lacp: str = ""                  # active | passive | off, and the rate, for kind lag
    note: str = ""


@dataclass(frozen=True)
class ExpectedNeighbor:
    """A BGP session the user's configuration must set up (RFC 4271: one per address family)."""

    address: str
    remote_asn: int
    local_address: str
    family: str                     # ipv4 | ipv6
    peer: str                       # the node at the other end
    over: str                       # the interface the session runs over
    purpose: str                    # microsoft | route-server | partner | member | peer-router
    tcp_md5: str = ""               # where the session's TCP MD5 key (RFC 2385) is set, if any


@dataclass(frozen=True)
class Expectation:
    rule: str
    text: str


@dataclass(frozen=True)
class NodeContract:
    node: str
    role: str
    software: str
    asn: int | None
    router_id: str | None
    own_config: str | None
    interfaces: tuple[Interface, ...]
    neighbors: tuple[ExpectedNeighbor, ...]
    announce: tuple[str, ...]
    expectations: tuple[Expectation, ...]

    def to_json(self) -> dict:
        return asdict(self)


def _purpose(plan: Plan, node: Node, other: str, asn: int) -> str:
    if asn == MICROSOFT_ASN:
        return "microsoft"
    role = plan.node(other).role
    if role is Role.ROUTE_SERVER:
        return "route-server"
    if role is Role.PEER_ROUTER:
        return "partner" if node.role is Role.PEER_ROUTER else "peer-router"
    return "member"


def _interfaces(plan: Plan, node: Node) -> list[Interface]:
    found = []
    for lag in plan.lags_of(node.name):
        mine = lag.a_node == node.name
        found.append(Interface(
            lag.ifname, "lag", lag.addresses(node.name), lag.member_ifnames(node.name),
            f"{node.lacp if mine else 'active'}, {lag.lacp_rate} rate",
            f"LAG {lag.name} to {lag.far_node(node.name)}: the lab configures the "
            f"bundle and its LACP; BGP to Microsoft runs over it"))
    port = plan.lan_port(node.name)
    if port:
        found.append(Interface(port.ifname, "exchange-lan", (port.ipv4, port.ipv6),
                               note="the exchange LAN: route server, members, partner router"))
    for link in plan.links_of(node.name):
        mine = link.a_node == node.name
        found.append(Interface(link.a_ifname if mine else link.b_ifname, "routed",
                               (link.a_ipv4, link.a_ipv6) if mine else (link.b_ipv4, link.b_ipv6)))
    if node.endpoints:
        found.append(Interface("lo", "loopback", node.endpoints,
                               note="endpoints inside the announced prefixes (probe targets)"))
    return found


def _over(plan: Plan, node: Node, address: str) -> str:
    for iface in _interfaces(plan, node):
        if any(a.split("/")[0] == address for a in iface.addresses):
            return iface.name
    return "?"


def _connection(plan: Plan, lag: str | None) -> str:
    return next((l.connection for l in plan.lags if l.name == lag), "?")


def _neighbors(plan: Plan, node: Node) -> list[ExpectedNeighbor]:
    found = []
    for session in plan.sessions_of(node.name):
        mine = session.a_node == node.name
        local = session.a_address if mine else session.b_address
        address = session.b_address if mine else session.a_address
        other = session.b_node if mine else session.a_node
        asn = session.b_asn if mine else session.a_asn
        # The key itself stays out of the contract (printed, kept in reports): it says where.
        md5 = (f"connection {_connection(plan, session.lag)}'s md5-key"
               if session.md5_key else "")
        found.append(ExpectedNeighbor(address, asn, local, session.family, other,
                                      _over(plan, node, local), _purpose(plan, node, other, asn),
                                      md5))
    return found


def _expectations(plan: Plan, node: Node) -> list[Expectation]:
    if node.role is Role.PEER_ROUTER:
        return [
            Expectation("max-prefix", f"a prefix limit on every session with AS{MICROSOFT_ASN}, "
                        f"between {MAX_PREFIX_MINIMUM} and {MAX_PREFIX_MAXIMUM} (the page: Microsoft "
                        f"announces roughly {MICROSOFT_PREFIXES_ROUGHLY} prefixes, 10-15% more in "
                        f"future; a safe limit of 400-500)"),
            Expectation("both-families", "an IPv4 and an IPv6 session with Microsoft on every link"),
            Expectation("lag-before-bgp", "BGP to Microsoft over the LAG interface, on the "
                        "addresses above (the page: Microsoft configures BGP after the LAG is up)"),
            Expectation("no-leak-to-microsoft", "announce to Microsoft only the exchange side's "
                        "prefixes: never Microsoft's own, never what the partner router learned "
                        "from Microsoft, never private or reserved space"),
            Expectation("peer-devices", "no stateful firewall and no rate limiting on the "
                        "interconnect (the page: MUST NOT / CANNOT)"),
            Expectation("microsoft-prefixes", "accept Microsoft's prefixes on each Microsoft "
                        "session and carry them to the exchange side"),
        ]
    if node.role is Role.ROUTE_SERVER:
        return [Expectation("peer-prefixes", "carry every member's prefixes to the peer routers "
                            "and Microsoft's prefixes to the members (a transparent route server, "
                            "RFC 7947: no own ASN in the path, next hop unchanged)")]
    if node.role is Role.MEMBER:
        return [Expectation("peer-prefixes", "announce the member's prefixes to the route server")]
    return []


def contract(plan: Plan, node: Node) -> NodeContract:
    return NodeContract(node.name, node.role.value, node.software, node.asn, node.router_id,
                        node.config, tuple(_interfaces(plan, node)), tuple(_neighbors(plan, node)),
                        node.announces, tuple(_expectations(plan, node)))


# The nodes a user configures: the exchange side (Microsoft's side and the LAN switch are ours).
USER_ROLES = (Role.PEER_ROUTER, Role.ROUTE_SERVER, Role.MEMBER)


def contracts(plan: Plan, only: str | None = None) -> list[NodeContract]:
    return [contract(plan, n) for n in plan.nodes
            if n.role in USER_ROLES and (only is None or n.name == only)]
