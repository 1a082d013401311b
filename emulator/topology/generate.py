"""Generated topologies: one MAPS peering with a connection at each of N locations.

`generate(locations, name)` returns topology YAML (the format of emulator.topology.intent) for benchmarks
and scale tests. Every location gets two peer routers and one connection; locations are paired,
the first of a pair holding a primary connection and the second its backup (`backup-of`), so
that a backup is never at its primary's location (MAPS-BACKUP-LOCATION) and every connection has
the same bandwidth (MAPS-SAME-BANDWIDTH). With an odd N the last location holds a primary.

Numbers are the documentation ones of topologies/seattle.yaml (RFC 5398 ASNs, RFC 5737 and
RFC 3849 prefixes); session addresses are the resolver's default pools (198.18.0.0/24 and
2001:db8:ffff::/64, README "The topology file"), two /31 and two /127 a location, in order.
"""
from __future__ import annotations

import yaml

from emulator.core import names
from emulator.core.errors import UsageError
from emulator.topology.intent import (BgpTimers, Connection, Exchange, Lag, Link, Location, Member,
                             Microsoft, Peering, Prefix, RegisteredAsn, RouteServer, Router,
                             Topology)

# Metros where Microsoft (AS8075) peers, as PeeringDB lists its facilities.
METROS: tuple[tuple[str, str], ...] = (
    ("sea", "Seattle"), ("sjc", "San Jose"), ("chi", "Chicago"), ("ash", "Ashburn"),
    ("dfw", "Dallas"), ("nyc", "New York"), ("lax", "Los Angeles"), ("atl", "Atlanta"),
    ("mia", "Miami"), ("den", "Denver"), ("phx", "Phoenix"), ("tor", "Toronto"),
    ("ams", "Amsterdam"), ("lon", "London"), ("fra", "Frankfurt"), ("par", "Paris"),
    ("sin", "Singapore"), ("tyo", "Tokyo"), ("syd", "Sydney"), ("sao", "Sao Paulo"),
)
# Bounded by the session pool: 198.18.0.0/24 holds 128 /31s, two links a location.
MAX_LOCATIONS = 64
PEER_ASN = 64500
LAG = Lag(members=2, member_speed_gbps=10, lacp_rate="fast")


def location_names(count: int) -> list[tuple[str, str]]:
    """(name, metro) of the first `count` locations: the metros above, then numbered ones."""
    return [METROS[i] if i < len(METROS) else (f"loc{i + 1}", f"Metro {i + 1}")
            for i in range(count)]


def topology(locations: int, name: str) -> Topology:
    """The typed topology of a peering with one connection at each of `locations` locations."""
    if not 1 <= locations <= MAX_LOCATIONS:
        raise UsageError(f"locations must be 1-{MAX_LOCATIONS}, not {locations}")
    problem = names.lab_name_problem(name)
    if problem:
        raise UsageError(problem)
    sites = location_names(locations)
    routers, connections = [], []
    for index, (site, _) in enumerate(sites):
        pair = [f"{site}-pr1", f"{site}-pr2"]
        routers += [Router(name=r, location=site, lacp="active", max_prefix=500) for r in pair]
        backup = index % 2 == 1
        connections.append(Connection(
            name=f"{site}-1", location=site, role="backup" if backup else "primary",
            backup_of=f"{sites[index - 1][0]}-1" if backup else None,
            bandwidth_gbps=LAG.members * LAG.member_speed_gbps, lag=LAG,
            links=[Link(peer_router=r, ipv4=f"198.18.0.{4 * index + 2 * k}/31",
                        ipv6=f"2001:db8:ffff::{4 * index + 2 * k:x}/127")
                   for k, r in enumerate(pair)]))
    return Topology(
        lab=name,
        peering=Peering(name=f"contoso-ix-{name}", resource_group="rg-contoso-peering",
                        peer_asn=PEER_ASN,
                        prefixes=[Prefix(prefix="192.0.2.0/24", traffic_class="voice",
                                         endpoints="sbc", activated=True),
                                  Prefix(prefix="2001:db8:100::/48", traffic_class="voice",
                                         endpoints="sbc", activated=True)]),
        registered_asns=[RegisteredAsn(name="contoso-ix", asn=PEER_ASN),
                         RegisteredAsn(name="fabrikam-voice", asn=64501),
                         RegisteredAsn(name="tailspin-telecom", asn=65537)],
        locations=[Location(name=site, metro=metro) for site, metro in sites],
        routers=routers,
        connections=connections,
        exchange=Exchange(
            route_server=RouteServer(name="rs", asn=64511),
            members=[
                Member(name="fabrikam", asn=64501, prefixes=[
                    Prefix(prefix="198.51.100.0/24", traffic_class="voice", endpoints="sbc", activated=True),
                    Prefix(prefix="2001:db8:200::/48", traffic_class="voice", endpoints="sbc", activated=True)]),
                Member(name="tailspin", asn=65537, prefixes=[
                    Prefix(prefix="203.0.113.0/24", traffic_class="voice",
                           endpoints="teams-direct-routing", activated=True),
                    Prefix(prefix="2001:db8:300::/48", traffic_class="voice",
                           endpoints="teams-direct-routing", activated=True)])]),
        microsoft=Microsoft(max_prefix=500),
        bgp=BgpTimers(keepalive=3, hold=10),
    )


def generate(locations: int, name: str) -> str:
    """Topology YAML for `locations` locations under lab name `name`."""
    topo = topology(locations, name)
    data = topo.model_dump(mode="json", by_alias=True, exclude_none=True)
    header = (f"# Generated by emulator.topology.generate: {locations} location(s), one connection each;\n"
              f"# primaries and their backups at alternating locations. Documentation ASNs and\n"
              f"# prefixes stand in for public ones (`mapslab validate` warns and accepts).\n")
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
