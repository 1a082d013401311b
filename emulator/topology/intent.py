"""The user's intent: a MAPS peering as the topology YAML describes it.

Typed, frozen models; the loader (emulator.topology.loader) is the only place that sees dicts. Keys are
kebab-case in YAML (``peer-asn``) as in containerlab topologies. The page's rules are not checked
here but in emulator.topology.validate; this module only fixes the shape of the file.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from emulator.core import names


def _kebab(field: str) -> str:
    return field.replace("_", "-")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=_kebab,
                              populate_by_name=True)


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 60 else repr(value[:60]) + f"… ({len(value)} characters)"


def _network(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a prefix written as a string, e.g. 192.0.2.0/24")
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValueError(f"{_shown(value)} is not a prefix: write an address and a length, "
                         f"e.g. 192.0.2.0/24 or 2001:db8::/48 ({str(exc)[:100]})") from None
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(f"{_shown(value)} has host bits set: the prefix of that length is "
                         f"{loose}") from None
    return str(loose)


def _link_subnet(version: int):
    """A link's subnet: of its family, with room for two ends (RFC 3021 /31, RFC 6164 /127)."""
    def check(value: object) -> str | None:
        if value is None:
            return None
        network = ipaddress.ip_network(_network(value))
        if network.version != version:
            raise ValueError(f"{network} is an IPv{network.version} prefix, not IPv{version}")
        if network.num_addresses < 2:
            raise ValueError(f"{network} holds one address; a link needs two ends "
                             f"(/{network.max_prefixlen - 1}, RFC {3021 if version == 4 else 6164})")
        return str(network)
    return check


_ASDOT = re.compile(r"(\d+)\.(\d+)")


def _asn(value: object) -> object:
    """An AS number is an integer (asplain, RFC 5396); YAML reads `1.10` as a float and
    `true` as a boolean, neither of which may silently become an ASN."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = getattr(value, "text", None) or (value if isinstance(value, str) else repr(value))
    if isinstance(value, bool):
        text = "true" if value else "false"
    hint = ""
    dotted = _ASDOT.fullmatch(text.strip()) if len(text) < 24 else None
    if dotted and int(dotted[1]) < 65536 and int(dotted[2]) < 65536:
        high, low = int(dotted[1]), int(dotted[2])
        hint = (f"; asdot {text} is written {high * 65536 + low} in asplain "
                f"({high} × 65536 + {low}, RFC 5396)")
    elif isinstance(value, str) and value.strip().isdigit():
        hint = f"; write it without quotes: {value.strip()[:60]}"
    raise ValueError(f"an AS number must be an integer, got {_shown(str(text))}{hint}")


AsnNumber = Annotated[int, BeforeValidator(_asn), Field(ge=0, le=4294967295)]


def _name(value: str) -> str:
    problem = names.node_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


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
    as_path_prepend: list[AsnNumber] = []

    check = field_validator("prefix", mode="before")(_network)


class Member(Model):
    """A member network of the exchange, peering with the route server."""

    name: str
    asn: AsnNumber
    prefixes: list[Prefix] = []
    software: str = Field(default="bird", pattern=SOFTWARE_NAME)
    config: str | None = ConfigFile

    check = field_validator("name")(_name)


class RouteServer(Model):
    name: str = "rs"
    asn: AsnNumber
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

    check4 = field_validator("ipv4", mode="before")(_link_subnet(4))
    check6 = field_validator("ipv6", mode="before")(_link_subnet(6))


# RFC 2385 keys as Linux takes them (TCP_MD5SIG_MAXKEYLEN: 80 octets), in characters every
# router program's configuration and ExaBGP's accept unquoted or in double quotes alike.
MD5_KEY = re.compile(r"[A-Za-z0-9!$%&()*+,\-./:<=>?@\[\]^_|~]{1,80}")


def _md5_key(value: object) -> str | None:
    """The connection's TCP MD5 key (RFC 2385); never repeated in an error (it is a secret)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string (quote it in YAML)")
    if not MD5_KEY.fullmatch(value):
        bad = sorted({c for c in value if not MD5_KEY.fullmatch(c)})
        raise ValueError(
            f"a TCP MD5 key (RFC 2385) must be 1 to 80 characters (Linux TCP_MD5SIG_MAXKEYLEN) "
            f"of letters, digits and !$%&()*+,-./:<=>?@[]^_|~; the key given has "
            f"{len(value)} character(s)"
            + (f", among them {', '.join(repr(c) for c in bad)}" if bad else ""))
    return value


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
    # TCP MD5 signatures (RFC 2385) on every BGP session of the connection's links: the edge
    # signs with it, and so must the peer's routers.
    md5_key: str | None = None

    check_md5 = field_validator("md5_key", mode="before")(_md5_key)


class Location(Model):
    name: str
    metro: str

    check = field_validator("name")(_name)


class Peering(Model):
    """The Azure peering resource (Microsoft.Peering/peerings)."""

    name: str
    subscription: str = "00000000-0000-0000-0000-000000000000"
    resource_group: str = "rg-peering"
    peer_asn: AsnNumber
    kind: str = "Direct"
    microsoft_network: str = "AS8075 (with exchange route server)"
    sku: str = "Premium Free"
    prefixes: list[Prefix] = []


class RegisteredAsn(Model):
    name: str
    asn: AsnNumber


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
