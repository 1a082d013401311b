"""The user's intent: a MAPS peering as the topology YAML describes it.

Typed, frozen models; the loader (emulator.topology.loader) is the only place that sees dicts. Keys are
kebab-case in YAML (``peer-asn``) as in containerlab topologies. The page's rules are not checked
here but in emulator.topology.validate; this module only fixes the shape of the file.
"""
from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from emulator.core import names


def _kebab(field: str) -> str:
    return field.replace("_", "-")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=_kebab,
                              populate_by_name=True)


def _network(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a prefix written as a string, e.g. 192.0.2.0/24")
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a prefix with its host bits zero ({exc})") from None


def _name(value: str) -> str:
    problem = names.node_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Asn = Field(ge=0, le=4294967295)
# A router program's name (emulator.nodes.registry decides which exist, for which role).
SOFTWARE_NAME = r"^[a-z][a-z0-9-]{0,31}$"
# The user's own configuration file, relative to the topology file; the lab never rewrites it.
ConfigFile = Field(default=None, min_length=1, max_length=4096)


class Prefix(Model):
    """A prefix the peer side advertises, described as the page asks (traffic class, endpoints)."""

    prefix: str
    traffic_class: str | None = None
    endpoints: str | None = None
    activated: bool = False
    as_path_prepend: list[int] = []

    check = field_validator("prefix", mode="before")(_network)


class Member(Model):
    """A member network of the exchange, peering with the route server."""

    name: str
    asn: int = Asn
    prefixes: list[Prefix] = []
    software: str = Field(default="bird", pattern=SOFTWARE_NAME)
    config: str | None = ConfigFile

    check = field_validator("name")(_name)


class RouteServer(Model):
    name: str = "rs"
    asn: int = Asn
    software: str = Field(default="bird", pattern=SOFTWARE_NAME)
    config: str | None = ConfigFile

    check = field_validator("name")(_name)


class Exchange(Model):
    """The exchange behind the peer routers: a route server and its members on one LAN."""

    route_server: RouteServer
    members: list[Member] = []
    lan_ipv4: str = "100.127.0.0/24"
    lan_ipv6: str = "fd00:100:127::/64"

    check = field_validator("lan_ipv4", "lan_ipv6", mode="before")(_network)


class Router(Model):
    """A peer router that terminates interconnect links."""

    name: str
    location: str
    software: str = Field(default="frr", pattern=SOFTWARE_NAME)
    config: str | None = ConfigFile
    lacp: Literal["active", "passive", "off"] = "active"
    max_prefix: int | None = Field(default=None, ge=1)
    stateful_firewall: bool = False
    rate_limit: bool = False

    check = field_validator("name")(_name)

    @field_validator("lacp", mode="before")
    @classmethod
    def _lacp_off(cls, value: object) -> object:
        # YAML 1.1 (PyYAML) reads a bare `off` as false; `lacp: off` means LACP off.
        return "off" if value is False else value


class Lag(Model):
    """The link bundle of one interconnect link (IEEE 802.1AX)."""

    members: int = Field(default=2, ge=1, le=8)
    member_speed_gbps: int = Field(default=10, ge=1)
    lacp_rate: Literal["fast", "slow"] = "fast"


class Link(Model):
    """One link of the two-link mesh: a peer router to a Microsoft edge router."""

    peer_router: str
    ipv4: str | None = None
    ipv6: str | None = None

    check = field_validator("ipv4", "ipv6", mode="before")(
        lambda v: None if v is None else _network(v))


class Connection(Model):
    """A peering connection at a location; it yields a two-link BGP mesh."""

    name: str
    location: str
    role: Literal["primary", "backup", "redundant"] = "primary"
    backup_of: str | None = None
    bandwidth_gbps: int = Field(default=20, ge=1)
    session_address_provider: str = "Peer"
    use_for_peering_service: bool = True
    lag: Lag = Lag()
    links: list[Link]


class Location(Model):
    name: str
    metro: str

    check = field_validator("name")(_name)


class Peering(Model):
    """The Azure peering resource (Microsoft.Peering/peerings)."""

    name: str
    subscription: str = "00000000-0000-0000-0000-000000000000"
    resource_group: str = "rg-peering"
    peer_asn: int = Asn
    kind: str = "Direct"
    microsoft_network: str = "AS8075 (with exchange route server)"
    sku: str = "Premium Free"
    prefixes: list[Prefix] = []


class RegisteredAsn(Model):
    name: str
    asn: int = Asn


class Microsoft(Model):
    """Our side: the AS8075 edge routers' behaviour."""

    max_prefix: int = Field(default=500, ge=1)
    prefix_set: str = "microsoft-prefixes.txt"
    # An `internet` node peering with every edge, to show what Microsoft advertises onwards.
    internet: bool = True
    # Knobs for rehearsing broken turn-ups; the real edge is LACP active and waits for the LAG.
    lacp: Literal["active", "passive", "off"] = "active"
    bgp_waits_for_lacp: bool = True

    @field_validator("lacp", mode="before")
    @classmethod
    def _lacp_off(cls, value: object) -> object:
        # YAML 1.1 (PyYAML) reads a bare `off` as false; `lacp: off` means LACP off.
        return "off" if value is False else value


class BgpTimers(Model):
    # Short timers so that failover shows within seconds (RFC 4271 4.2: hold 0 or >= 3).
    keepalive: int = Field(default=3, ge=1)
    hold: int = Field(default=10, ge=3)


class Topology(Model):
    lab: str
    peering: Peering
    registered_asns: list[RegisteredAsn] = []
    locations: list[Location]
    connections: list[Connection]
    routers: list[Router]
    exchange: Exchange
    microsoft: Microsoft = Microsoft()
    bgp: BgpTimers = BgpTimers()

    @field_validator("lab")
    @classmethod
    def _lab(cls, value: str) -> str:
        problem = names.lab_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value
