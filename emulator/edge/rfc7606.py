"""RFC 7606 replay set: crafted UPDATEs, each with the clause and the handling the RFC requires.

Each case is data: a name, the RFC 7606 clause, the handling the RFC requires (treat-as-withdraw,
attribute discard, session reset, or plain acceptance for input that is not an error) and how
to craft the UPDATE for a given prefix. emulator.judge.replay sends the set at a running lab's
edge and records what the edge did.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from emulator.edge.wire import (MALFORMED_ATTRIBUTE_LIST, OPTIONAL_TRANSITIVE,
                                UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, UPDATE_MESSAGE_ERROR,
                                WELL_KNOWN, AttrType, Segment, as_path, as_path_segment,
                                attribute, communities, local_pref, mp_reach_ipv4, next_hop,
                                nlri, origin, update)


class Handling(str, Enum):
    """RFC 7606 2: the approaches, strongest first; ACCEPT is for input that is no error."""

    SESSION_RESET = "session-reset"
    TREAT_AS_WITHDRAW = "treat-as-withdraw"
    ATTRIBUTE_DISCARD = "attribute-discard"
    ACCEPT = "accept"

    @property
    def effect(self) -> "Effect":
        """What the handling does to a route the session already carried for the prefix."""
        return {Handling.SESSION_RESET: Effect.SESSION_RESET,
                Handling.TREAT_AS_WITHDRAW: Effect.WITHDRAWN,
                Handling.ATTRIBUTE_DISCARD: Effect.UPDATED,
                Handling.ACCEPT: Effect.UPDATED}[self]


class Effect(str, Enum):
    """What the edge agent's routes show after a crafted UPDATE for a prefix it held."""

    WITHDRAWN = "withdrawn"            # the prefix is gone, the session is up
    UPDATED = "updated"                # the prefix was received again, the session is up
    UNCHANGED = "unchanged"            # the UPDATE left no trace: silently ignored
    SESSION_RESET = "session-reset"    # the edge ended the session
    UNSETTLED = "unsettled"            # the marker UPDATE after it never showed either


@dataclass(frozen=True)
class Peer:
    """The peer side of the session the crafted UPDATEs come from."""

    asn: int
    next_hop: str           # the peer router's session address
    next_hop_v6: str        # its IPv6 session address, for a NEXT_HOP of the wrong size


Craft = Callable[[str, Peer], bytes]


@dataclass(frozen=True)
class Case:
    name: str
    clause: str                       # where the RFC says it
    handling: Handling                # what the RFC requires of the receiver
    summary: str
    craft: Craft = field(repr=False, compare=False)
    notification: tuple[int, int] | None = None   # (code, subcode) when a reset is required
    discards: str = ""                # the attribute an attribute discard drops


def good_update(prefixes: list[str], peer: Peer, path: list[int] | None = None) -> bytes:
    """A well-formed announcement (RFC 4271 5: ORIGIN, AS_PATH and NEXT_HOP, all mandatory)."""
    return update(attributes=origin() + as_path(path or [peer.asn]) + next_hop(peer.next_hop),
                  reachable=nlri(prefixes))


def _prepended(peer: Peer) -> list[int]:
    # The crafted UPDATEs carry a path other than the good announcement's, so that the route
    # the agent keeps shows whether the crafted UPDATE was applied.
    return [peer.asn, peer.asn]


def _with(prefix: str, attrs: bytes) -> bytes:
    return update(attributes=attrs, reachable=nlri([prefix]))


def _origin_value(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin(3) + as_path(_prepended(peer)) + next_hop(peer.next_hop))


def _origin_length(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, attribute(WELL_KNOWN, AttrType.ORIGIN, b"\x00\x00")
                 + as_path(_prepended(peer)) + next_hop(peer.next_hop))


def _origin_empty(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, attribute(WELL_KNOWN, AttrType.ORIGIN, b"")
                 + as_path(_prepended(peer)) + next_hop(peer.next_hop))


def _origin_flags(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin(flags=OPTIONAL_TRANSITIVE) + as_path(_prepended(peer))
                 + next_hop(peer.next_hop))


def _origin_missing(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, as_path(_prepended(peer)) + next_hop(peer.next_hop))


def _path_segment_type(prefix: str, peer: Peer) -> bytes:
    segment = as_path_segment(5, _prepended(peer))
    return _with(prefix, origin() + attribute(WELL_KNOWN, AttrType.AS_PATH, segment)
                 + next_hop(peer.next_hop))


def _path_overrun(prefix: str, peer: Peer) -> bytes:
    segment = as_path_segment(Segment.AS_SEQUENCE, _prepended(peer), count=3)
    return _with(prefix, origin() + attribute(WELL_KNOWN, AttrType.AS_PATH, segment)
                 + next_hop(peer.next_hop))


def _path_empty_segment(prefix: str, peer: Peer) -> bytes:
    segments = (as_path_segment(Segment.AS_SEQUENCE, [])
                + as_path_segment(Segment.AS_SEQUENCE, _prepended(peer)))
    return _with(prefix, origin() + attribute(WELL_KNOWN, AttrType.AS_PATH, segments)
                 + next_hop(peer.next_hop))


def _next_hop_length(prefix: str, peer: Peer) -> bytes:
    value = next_hop(peer.next_hop)[3:] + b"\x00"
    return _with(prefix, origin() + as_path(_prepended(peer))
                 + attribute(WELL_KNOWN, AttrType.NEXT_HOP, value))


def _next_hop_ipv6(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop_v6))


def _community_length(prefix: str, peer: Peer) -> bytes:
    value = communities([(peer.asn, 1)])[3:] + b"\x00\x02"
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + attribute(OPTIONAL_TRANSITIVE, AttrType.COMMUNITIES, value))


def _atomic_aggregate_length(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + attribute(WELL_KNOWN, AttrType.ATOMIC_AGGREGATE, b"\x00"))


def _aggregator_length(prefix: str, peer: Peer) -> bytes:
    # Six octets, the two-octet-AS form, on a session that negotiated four-octet ASNs.
    value = peer.asn.to_bytes(2, "big") + bytes(4)
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + attribute(OPTIONAL_TRANSITIVE, AttrType.AGGREGATOR, value))


def _unknown_optional_transitive(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + attribute(OPTIONAL_TRANSITIVE, AttrType.RESERVED_FOR_DEVELOPMENT,
                             b"maps-lab"))


def _next_hop_missing(prefix: str, peer: Peer) -> bytes:
    # IPv4 NLRI in the NLRI field and no NEXT_HOP (RFC 4271 5.1.3: well-known mandatory there).
    return _with(prefix, origin() + as_path(_prepended(peer)))


def _local_pref_external(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + local_pref(200))


def _unrecognized_well_known(prefix: str, peer: Peer) -> bytes:
    # Optional bit clear: a well-known attribute, of a type no speaker recognises (RFC 2042).
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + attribute(WELL_KNOWN, AttrType.RESERVED_FOR_DEVELOPMENT, b"maps-lab"))


def _community_twice(prefix: str, peer: Peer) -> bytes:
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
                 + communities([(peer.asn, 1)]) + communities([(peer.asn, 2)]))


def _attribute_overrun(prefix: str, peer: Peer) -> bytes:
    # The last attribute claims 8 octets and 4 follow: it runs past the attribute section,
    # whose Total Path Attribute Length is right, so the NLRI can still be found.
    last = attribute(OPTIONAL_TRANSITIVE, AttrType.COMMUNITIES, b"\xfb\xf4\x00\x01", length=8)
    return _with(prefix, origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop) + last)


def _mp_reach_twice(prefix: str, peer: Peer) -> bytes:
    reach = mp_reach_ipv4(peer.next_hop, [prefix])
    return update(attributes=origin() + as_path(_prepended(peer)) + reach + reach)


def _total_length_overrun(prefix: str, peer: Peer) -> bytes:
    attrs = origin() + as_path(_prepended(peer)) + next_hop(peer.next_hop)
    reachable = nlri([prefix])
    return update(attributes=attrs, reachable=reachable,
                  total_attribute_length=len(attrs) + len(reachable) + 1)


TAW, DISCARD, RESET, ACCEPT = (Handling.TREAT_AS_WITHDRAW, Handling.ATTRIBUTE_DISCARD,
                               Handling.SESSION_RESET, Handling.ACCEPT)

REPLAY_SET: tuple[Case, ...] = (
    Case("origin-undefined-value", "RFC 7606 7.1", TAW,
         "ORIGIN 3 (only 0, 1 and 2 are defined)", _origin_value),
    Case("origin-length-2", "RFC 7606 7.1", TAW,
         "ORIGIN of two octets", _origin_length),
    Case("origin-length-0", "RFC 7606 4, 7.1", TAW,
         "ORIGIN of zero octets", _origin_empty),
    Case("origin-flagged-optional", "RFC 7606 3.c", TAW,
         "ORIGIN with the Optional bit set", _origin_flags),
    Case("origin-missing", "RFC 7606 3.d", TAW,
         "no ORIGIN, a well-known mandatory attribute", _origin_missing),
    Case("as-path-segment-type", "RFC 7606 7.2", TAW,
         "AS_PATH segment of type 5 (unrecognized)", _path_segment_type),
    Case("as-path-segment-overrun", "RFC 7606 7.2", TAW,
         "AS_PATH segment claiming 3 ASNs with 2 present", _path_overrun),
    Case("as-path-segment-empty", "RFC 7606 7.2", TAW,
         "AS_PATH with a segment of length zero", _path_empty_segment),
    Case("next-hop-length-5", "RFC 7606 7.3", TAW,
         "NEXT_HOP of five octets", _next_hop_length),
    Case("next-hop-length-16", "RFC 7606 7.3", TAW,
         "NEXT_HOP of sixteen octets (an IPv6 address) for IPv4 NLRI", _next_hop_ipv6),
    Case("next-hop-missing", "RFC 7606 3.d", TAW,
         "IPv4 NLRI without a NEXT_HOP", _next_hop_missing),
    Case("communities-length-6", "RFC 7606 7.8", TAW,
         "COMMUNITIES of six octets (not a multiple of four)", _community_length),
    Case("atomic-aggregate-length-1", "RFC 7606 7.6", DISCARD,
         "ATOMIC_AGGREGATE of one octet", _atomic_aggregate_length),
    Case("aggregator-length-6", "RFC 7606 7.7", DISCARD,
         "AGGREGATOR of six octets on a four-octet-AS session", _aggregator_length),
    Case("local-pref-from-external", "RFC 7606 7.5", DISCARD,
         "LOCAL_PREF from an external peer", _local_pref_external, discards="LOCAL_PREF"),
    Case("communities-twice", "RFC 7606 3.g", DISCARD,
         "COMMUNITIES twice: all but the first discarded", _community_twice),
    Case("unknown-optional-transitive", "RFC 4271 5", ACCEPT,
         "attribute type 255 (reserved for development), optional transitive",
         _unknown_optional_transitive),
    Case("attribute-overruns-section", "RFC 7606 4", TAW,
         "last attribute's length runs past the Total Path Attribute Length",
         _attribute_overrun),
    Case("mp-reach-twice", "RFC 7606 3.g", RESET,
         "MP_REACH_NLRI twice", _mp_reach_twice,
         (UPDATE_MESSAGE_ERROR, MALFORMED_ATTRIBUTE_LIST)),
    Case("total-attribute-length-overrun", "RFC 7606 3.b", RESET,
         "Withdrawn Routes Length + Total Path Attribute Length + 23 exceeds the message length",
         _total_length_overrun, (UPDATE_MESSAGE_ERROR, MALFORMED_ATTRIBUTE_LIST)),
    Case("unrecognized-well-known", "RFC 4271 6.3", RESET,
         "attribute type 255 with the Optional bit clear (well-known, unrecognised)",
         _unrecognized_well_known, (UPDATE_MESSAGE_ERROR, UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE)),
)


def case(name: str) -> Case:
    for found in REPLAY_SET:
        if found.name == name:
            return found
    raise KeyError(name)


# The replay's prefixes: 198.19.0.0/16 is benchmarking space (RFC 2544, RFC 6890) and no
# topology announces it, so nothing the lab carries is confused with the replay's routes.
GOOD_PREFIXES = tuple(f"198.19.{i}.0/24" for i in range(4))


def case_prefix(index: int) -> str:
    return f"198.19.{16 + index}.0/24"


def marker_prefix(index: int) -> str:
    return f"198.19.{128 + index}.0/24"
