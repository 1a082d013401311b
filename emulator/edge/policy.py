"""The page's routing policy, as the Microsoft edge applies it to each received route.

Rules, in the order they are applied (the first that decides wins):
  MS-LOOP          the path already holds AS8075: discarded (RFC 4271 9.1.2 loop detection;
                   ExaBGP does none of its own).
  MS-PRIVATE-ASN   "a private ASN can't be in the AS path": rejected.
  MS-ROUTABLE      "publicly routable IPv4 address space": a prefix inside or covering a
                   special-purpose range (the validator's tables, topology.addresses: one
                   source) is rejected; documentation ranges stand in for public space.
  MS-MICROSOFT-SPACE  a prefix inside Microsoft's own announced space: rejected.
  MS-LONG-PREFIX   "for activated prefixes smaller than /24, the AS path must be less than four":
                   an IPv4 prefix longer than /24 is accepted only if activated and the path has
                   fewer than four ASNs; otherwise rejected.
  MS-REGISTERED    "All origin ASNs are registered": an unregistered origin is accepted but not
                   optimized.
  MS-ACTIVATED     "Before prefixes can be optimized, your ASN must be registered", then
                   customers "activate prefixes using the peering service prefix key": a prefix
                   of a registered origin that is not activated with that origin's key is
                   accepted but not optimized.
  MS-OPTIMIZED     activated with its origin's key: accepted and optimized.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from emulator.core.page import (LONGEST_IPV4_WITHOUT_ACTIVATION, MAX_AS_PATH_FOR_LONG_PREFIX,
                                MICROSOFT_ASN)
from emulator.topology.addresses import Network, Use, asn_use, classify_prefix

# A registration or an activation declared in a topology carries no key: the two match.
DECLARED = ""


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
    """The peering's registrations as the edge applies them.

    The page: the key generated at an ASN's registration "must be used with ALL peering service
    prefixes", and customers "activate prefixes using the peering service prefix key obtained
    during ASN registration". So a registration is an origin ASN with its key, an activation a
    prefix with the key it was activated with, and a prefix is activated for a route only when
    that key is the key of the route's origin ASN as registered now.
    """

    registrations: frozenset[tuple[int, str]]         # (origin ASN, its prefix key)
    activations: frozenset[tuple[str, str]]           # (prefix, the key it was activated with)
    microsoft_space: tuple[Network, ...] = ()

    @classmethod
    def of(cls, keys: Mapping[int, str], activated: Mapping[str, str],
           microsoft_prefixes: Iterable[str] = ()) -> "EdgePolicy":
        return cls(frozenset(keys.items()), frozenset(activated.items()),
                   tuple(ipaddress.ip_network(p, strict=False) for p in microsoft_prefixes))

    @classmethod
    def declared(cls, registered_asns: Iterable[int], activated_prefixes: Iterable[str],
                 microsoft_prefixes: Iterable[str] = ()) -> "EdgePolicy":
        """Registrations and activations as a topology declares them (no keys)."""
        return cls.of({asn: DECLARED for asn in registered_asns},
                      {prefix: DECLARED for prefix in activated_prefixes}, microsoft_prefixes)

    @property
    def registered_asns(self) -> frozenset[int]:
        return frozenset(asn for asn, _ in self.registrations)

    @property
    def activated_prefixes(self) -> frozenset[str]:
        return frozenset(prefix for prefix, _ in self.activations)

    def key_of(self, asn: int) -> str | None:
        return next((key for registered, key in self.registrations if registered == asn), None)

    def activation_key(self, prefix: str) -> str | None:
        return next((key for activated, key in self.activations if activated == prefix), None)

    def activated(self, prefix: str, origin: int | None) -> bool:
        """Activated with the key of the route's origin ASN's registration."""
        key = self.activation_key(prefix)
        return key is not None and origin is not None and key == self.key_of(origin)

    def in_microsoft_space(self, network: Network) -> Network | None:
        return next((own for own in self.microsoft_space if own.version == network.version
                     and network.subnet_of(own)), None)        # type: ignore[arg-type]


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
    kind = classify_prefix(prefix)
    if kind.use not in (Use.PUBLIC, Use.DOCUMENTATION):
        return RouteVerdict(prefix, Outcome.REJECTED, "MS-ROUTABLE",
                            f"not publicly routable: {kind.describe(prefix)}")
    own = policy.in_microsoft_space(network)
    if own is not None:
        return RouteVerdict(prefix, Outcome.REJECTED, "MS-MICROSOFT-SPACE",
                            f"inside {own}, which AS{MICROSOFT_ASN} announces")
    origin = as_path[-1] if as_path else None
    activated = policy.activated(prefix, origin)
    if network.version == 4 and network.prefixlen > LONGEST_IPV4_WITHOUT_ACTIVATION:
        if not activated:
            return RouteVerdict(prefix, Outcome.REJECTED, "MS-LONG-PREFIX",
                           f"/{network.prefixlen} is longer than /24 and not activated")
        if len(as_path) > MAX_AS_PATH_FOR_LONG_PREFIX:
            return RouteVerdict(prefix, Outcome.REJECTED, "MS-LONG-PREFIX",
                           f"activated /{network.prefixlen} with AS path length {len(as_path)} "
                           f"(must be less than four)")
    if origin is None or policy.key_of(origin) is None:
        return RouteVerdict(prefix, Outcome.NOT_OPTIMIZED, "MS-REGISTERED",
                       f"origin AS{origin} is not a registered ASN")
    if not activated:
        why = ("not activated" if policy.activation_key(prefix) is None else
               f"activated with a key other than the one issued to AS{origin}'s registration")
        return RouteVerdict(prefix, Outcome.NOT_OPTIMIZED, "MS-ACTIVATED",
                            f"origin AS{origin} is registered; {prefix} is {why}")
    return RouteVerdict(prefix, Outcome.OPTIMIZED, "MS-OPTIMIZED",
                   f"activated, origin AS{origin}, AS path {as_path}")
