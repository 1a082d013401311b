"""Special-purpose address ranges and AS numbers: what may not be announced to Microsoft.

Address tables follow RFC 6890 and the IANA IPv4/IPv6 Special-Purpose Address Registries, plus
the deprecated and reserved blocks that bogon filters list. AS number tables follow the IANA
Special-Purpose AS Numbers registry. Documentation ranges are kept apart: the lab accepts them
as stand-ins for public resources (with a warning), a real peering cannot use them.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Use(str, Enum):
    """How a number or range may appear in a lab's announcements."""

    PUBLIC = "public"
    DOCUMENTATION = "documentation"   # a stand-in for a public one: accepted with a warning
    PRIVATE = "private"
    RESERVED = "reserved"


@dataclass(frozen=True)
class SpecialRange:
    network: Network
    name: str
    reference: str
    use: Use = Use.RESERVED

    def describe(self) -> str:
        return f"{self.network} {self.name} ({self.reference})"


def _r(prefix: str, name: str, reference: str, use: Use = Use.RESERVED) -> SpecialRange:
    return SpecialRange(ipaddress.ip_network(prefix), name, reference, use)


# Most specific first where ranges nest, so that a match names the narrowest purpose.
IPV4_SPECIAL: tuple[SpecialRange, ...] = (
    _r("0.0.0.0/8", "'this network'", "RFC 791 3.2, RFC 1122 3.2.1.3"),
    _r("10.0.0.0/8", "private-use", "RFC 1918 3", Use.PRIVATE),
    _r("100.64.0.0/10", "shared address space (CGNAT)", "RFC 6598", Use.PRIVATE),
    _r("127.0.0.0/8", "loopback", "RFC 1122 3.2.1.3"),
    _r("169.254.0.0/16", "link-local", "RFC 3927"),
    _r("172.16.0.0/12", "private-use", "RFC 1918 3", Use.PRIVATE),
    _r("192.0.0.0/24", "IETF protocol assignments", "RFC 6890 2.1"),
    _r("192.0.2.0/24", "documentation TEST-NET-1", "RFC 5737", Use.DOCUMENTATION),
    _r("192.88.99.0/24", "6to4 relay anycast, deprecated", "RFC 7526"),
    _r("192.168.0.0/16", "private-use", "RFC 1918 3", Use.PRIVATE),
    _r("198.18.0.0/15", "benchmarking", "RFC 2544 C.2.2, RFC 6815"),
    _r("198.51.100.0/24", "documentation TEST-NET-2", "RFC 5737", Use.DOCUMENTATION),
    _r("203.0.113.0/24", "documentation TEST-NET-3", "RFC 5737", Use.DOCUMENTATION),
    _r("224.0.0.0/4", "multicast", "RFC 5771"),
    # Includes 255.255.255.255/32, the limited broadcast address (RFC 919 7).
    _r("240.0.0.0/4", "reserved for future use", "RFC 1112 4"),
)

IPV6_SPECIAL: tuple[SpecialRange, ...] = (
    _r("::/128", "unspecified address", "RFC 4291 2.5.2"),
    _r("::1/128", "loopback", "RFC 4291 2.5.3"),
    _r("::ffff:0:0/96", "IPv4-mapped addresses", "RFC 4291 2.5.5.2"),
    # Also holds the deprecated IPv4-compatible addresses and the NAT64 prefixes (RFC 6052).
    _r("::/8", "reserved by the IETF", "RFC 4291 2.4"),
    _r("100::/64", "discard-only", "RFC 6666"),
    _r("2001:2::/48", "benchmarking", "RFC 5180"),
    _r("2001:10::/28", "ORCHID, deprecated", "RFC 4843"),
    _r("2001:db8::/32", "documentation", "RFC 3849", Use.DOCUMENTATION),
    _r("2002::/16", "6to4", "RFC 3056, RFC 7526"),
    _r("3ffe::/16", "former 6bone", "RFC 3701"),
    _r("3fff::/20", "documentation", "RFC 9637", Use.DOCUMENTATION),
    _r("5f00::/16", "SRv6 SIDs", "RFC 9602"),
    _r("fc00::/7", "unique local", "RFC 4193", Use.PRIVATE),
    _r("fe80::/10", "link-local", "RFC 4291 2.5.6"),
    _r("fec0::/10", "site-local, deprecated", "RFC 3879"),
    _r("ff00::/8", "multicast", "RFC 4291 2.7"),
)

# IANA IPv6 Address Space registry: only 2000::/3 is allocated as global unicast (RFC 4291 2.4).
IPV6_GLOBAL_UNICAST = _r("2000::/3", "global unicast", "RFC 4291 2.4, IANA IPv6 Address Space",
                         Use.PUBLIC)


@dataclass(frozen=True)
class PrefixClass:
    """Why a prefix may or may not be announced: its use and the range that decided it."""

    use: Use
    special: SpecialRange | None = None
    covers: bool = False        # the prefix covers the range rather than lying inside it

    def describe(self, prefix: str) -> str:
        if self.special is None:
            return f"{prefix} is publicly routable"
        if ipaddress.ip_network(prefix, strict=False).prefixlen == 0:
            return (f"{prefix} is the default route (RFC 4632 3.1): it covers every address, "
                    f"not the address space of one network")
        if self.special is IPV6_GLOBAL_UNICAST:
            return f"{prefix} is outside {self.special.describe()}"
        if self.covers:
            return f"{prefix} covers {self.special.describe()}"
        if self.special.network == ipaddress.ip_network(prefix, strict=False):
            return f"{prefix} is {self.special.name} ({self.special.reference})"
        return f"{prefix} is in {self.special.describe()}"


def classify_prefix(prefix: str) -> PrefixClass:
    """A prefix inside a documentation range is a stand-in; one touching any other special range
    (inside it, or covering it) is not routable; so is one covering a documentation range."""
    network = ipaddress.ip_network(prefix, strict=False)
    table = IPV4_SPECIAL if network.version == 4 else IPV6_SPECIAL
    for special in table:
        if network.subnet_of(special.network):   # type: ignore[arg-type]
            return PrefixClass(special.use, special)
    for special in table:
        if special.network.subnet_of(network):   # type: ignore[arg-type]
            use = Use.RESERVED if special.use is Use.DOCUMENTATION else special.use
            return PrefixClass(use, special, covers=True)
    global_unicast = IPV6_GLOBAL_UNICAST.network
    if network.version == 6 and not network.subnet_of(global_unicast):  # type: ignore[arg-type]
        return PrefixClass(Use.RESERVED, IPV6_GLOBAL_UNICAST, covers=True)
    return PrefixClass(Use.PUBLIC)


@dataclass(frozen=True)
class AsnRange:
    first: int
    last: int
    name: str
    reference: str
    use: Use

    def describe(self) -> str:
        span = f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"
        return f"{self.name} ({self.reference}: {span})"


ASN_SPECIAL: tuple[AsnRange, ...] = (
    AsnRange(0, 0, "reserved", "RFC 7607", Use.RESERVED),
    AsnRange(23456, 23456, "AS_TRANS, reserved", "RFC 6793", Use.RESERVED),
    AsnRange(64496, 64511, "reserved for documentation", "RFC 5398", Use.DOCUMENTATION),
    AsnRange(64512, 65534, "private use", "RFC 6996", Use.PRIVATE),
    AsnRange(65535, 65535, "reserved", "RFC 7300", Use.RESERVED),
    AsnRange(65536, 65551, "reserved for documentation", "RFC 5398", Use.DOCUMENTATION),
    AsnRange(65552, 131071, "reserved", "IANA Special-Purpose AS Numbers", Use.RESERVED),
    AsnRange(4200000000, 4294967294, "private use", "RFC 6996", Use.PRIVATE),
    AsnRange(4294967295, 4294967295, "reserved", "RFC 7300", Use.RESERVED),
)


def asn_range(asn: int) -> AsnRange | None:
    """The special-purpose range holding an ASN, or None for a public ASN."""
    for special in ASN_SPECIAL:
        if special.first <= asn <= special.last:
            return special
    return None


def asn_use(asn: int) -> Use:
    special = asn_range(asn)
    return Use.PUBLIC if special is None else special.use
