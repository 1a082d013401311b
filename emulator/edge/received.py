"""RFC 7606 judged on the bytes of a received UPDATE, where ExaBGP's parsed JSON hides the defect.

ExaBGP 5.0.15 hands the API process the raw message beside the parsed one when the neighbor's
api says `receive { consolidate; }` (the JSON's "header" and "body", in hex). The edge agent
reads the body here for what ExaBGP lets through and its JSON cannot show:
  ORIGIN of a length other than one       RFC 7606 7.1: treat-as-withdraw (ExaBGP reads the
                                          first octet and keeps the route)
  IPv4 NLRI without a NEXT_HOP            RFC 7606 3.d (NEXT_HOP is well-known mandatory for
                                          the NLRI field, RFC 4271 5.1.3): treat-as-withdraw
  LOCAL_PREF from an external peer        RFC 7606 7.5: attribute discard
An unrecognised well-known attribute needs a NOTIFICATION (RFC 4271 6.3), which only the speaker
can send: emulator.edge.speaker does it inside ExaBGP, and the agent never sees such an UPDATE.
The body's framing errors (lengths that overrun) are ExaBGP's to handle; here they yield nothing.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from emulator.edge.wire import AttrFlag, AttrType


class Handling(str, Enum):
    TREAT_AS_WITHDRAW = "treat-as-withdraw"
    ATTRIBUTE_DISCARD = "attribute-discard"


@dataclass(frozen=True)
class RawAttribute:
    flags: int
    code: int
    value: bytes


@dataclass(frozen=True)
class RawUpdate:
    """An UPDATE's body split as RFC 4271 4.3 lays it out."""

    withdrawn: bytes
    attributes: tuple[RawAttribute, ...]
    nlri: bytes

    def first(self, code: int) -> RawAttribute | None:
        return next((a for a in self.attributes if a.code == code), None)


@dataclass(frozen=True)
class Defect:
    clause: str
    handling: Handling
    reason: str
    attribute: str = ""        # the attribute an attribute discard drops


def split(body: bytes) -> RawUpdate | None:
    """The body's parts, or None where its lengths do not add up (ExaBGP's to handle)."""
    try:
        (withdrawn_len,) = struct.unpack_from("!H", body, 0)
        withdrawn = body[2:2 + withdrawn_len]
        (attr_len,) = struct.unpack_from("!H", body, 2 + withdrawn_len)
    except struct.error:
        return None
    start = 4 + withdrawn_len
    section, nlri = body[start:start + attr_len], body[start + attr_len:]
    if len(withdrawn) != withdrawn_len or len(section) != attr_len:
        return None
    attributes: list[RawAttribute] = []
    at = 0
    while at < len(section):
        if at + 3 > len(section):
            return None
        flags, code = section[at], section[at + 1]
        extended = bool(flags & AttrFlag.EXTENDED_LENGTH)
        if extended and at + 4 > len(section):
            return None
        length = (section[at + 2] << 8 | section[at + 3]) if extended else section[at + 2]
        offset = at + (4 if extended else 3)
        if offset + length > len(section):
            return None
        attributes.append(RawAttribute(flags, code, section[offset:offset + length]))
        at = offset + length
    return RawUpdate(withdrawn, tuple(attributes), nlri)


def defects(body: bytes, external: bool) -> list[Defect]:
    """What RFC 7606 requires of the receiver for this UPDATE, beyond what ExaBGP did."""
    update = split(body)
    if update is None:
        return []
    found: list[Defect] = []
    origin = update.first(AttrType.ORIGIN)
    if origin is not None and len(origin.value) != 1:
        found.append(Defect("RFC 7606 7.1", Handling.TREAT_AS_WITHDRAW,
                            f"ORIGIN of {len(origin.value)} octets (its length is one)"))
    if update.nlri and update.first(AttrType.NEXT_HOP) is None:
        found.append(Defect("RFC 7606 3.d", Handling.TREAT_AS_WITHDRAW,
                            "IPv4 NLRI without a NEXT_HOP (well-known mandatory for them, "
                            "RFC 4271 5.1.3)"))
    if external and update.first(AttrType.LOCAL_PREF) is not None:
        found.append(Defect("RFC 7606 7.5", Handling.ATTRIBUTE_DISCARD,
                            "LOCAL_PREF from an external peer", "LOCAL_PREF"))
    return found
