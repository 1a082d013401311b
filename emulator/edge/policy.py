"""The page's routing policy, as the Microsoft edge applies it to each received route.

Rules, in the order they are applied (the first that decides wins):
  MS-LOOP          the path already holds AS8075: discarded (RFC 4271 9.1.2 loop detection;
                   ExaBGP does none of its own).
  MS-PRIVATE-ASN   "a private ASN can't be in the AS path": rejected.
  MS-LONG-PREFIX   "for activated prefixes smaller than /24, the AS path must be less than four":
                   an IPv4 prefix longer than /24 is accepted only if activated and the path has
                   fewer than four ASNs; otherwise rejected.
  MS-REGISTERED    "All origin ASNs are registered": an unregistered origin is accepted but not
                   optimized.
  MS-OPTIMIZED     everything else: accepted and optimized.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

from emulator.core.page import (LONGEST_IPV4_WITHOUT_ACTIVATION, MAX_AS_PATH_FOR_LONG_PREFIX,
                                MICROSOFT_ASN)
from emulator.topology.addresses import Use, asn_use



class Outcome(str, Enum):
    OPTIMIZED = "optimized"
    NOT_OPTIMIZED = "not-optimized"
    REJECTED = "rejected"
    DISCARDED = "discarded"


@dataclass(frozen=True)
class RouteVerdict:
    prefix: str
    outcome: Outcome
    rule: str
    reason: str


@dataclass(frozen=True)
class EdgePolicy:
    registered_asns: frozenset[int]
    activated_prefixes: frozenset[str]


def is_private_asn(asn: int) -> bool:
    # RFC 6996 private use, from the validator's AS number table (one source).
    return asn_use(asn) is Use.PRIVATE


def judge(policy: EdgePolicy, prefix: str, as_path: list[int]) -> RouteVerdict:
    if MICROSOFT_ASN in as_path:
        return RouteVerdict(prefix, Outcome.DISCARDED, "MS-LOOP",
                       f"AS path {as_path} already holds AS{MICROSOFT_ASN}")
    private = [asn for asn in as_path if is_private_asn(asn)]
    if private:
        return RouteVerdict(prefix, Outcome.REJECTED, "MS-PRIVATE-ASN",
                       f"private ASN {private[0]} in AS path {as_path}")
    network = ipaddress.ip_network(prefix, strict=False)
    if network.version == 4 and network.prefixlen > LONGEST_IPV4_WITHOUT_ACTIVATION:
        if prefix not in policy.activated_prefixes:
            return RouteVerdict(prefix, Outcome.REJECTED, "MS-LONG-PREFIX",
                           f"/{network.prefixlen} is longer than /24 and not activated")
        if len(as_path) > MAX_AS_PATH_FOR_LONG_PREFIX:
            return RouteVerdict(prefix, Outcome.REJECTED, "MS-LONG-PREFIX",
                           f"activated /{network.prefixlen} with AS path length {len(as_path)} "
                           f"(must be less than four)")
    origin = as_path[-1] if as_path else None
    if origin is not None and origin not in policy.registered_asns:
        return RouteVerdict(prefix, Outcome.NOT_OPTIMIZED, "MS-REGISTERED",
                       f"origin AS{origin} is not a registered ASN")
    return RouteVerdict(prefix, Outcome.OPTIMIZED, "MS-OPTIMIZED",
                   f"origin AS{origin}, AS path {as_path}")
