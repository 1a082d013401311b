"""BGP-4 on the wire: message encodings (RFC 4271 4) and a minimal speaker to stand in for a peer.

The encoders take every length as a parameter that may be overridden, so that a caller can build
the malformed messages of the RFC 7606 replay set (emulator.judge.replay) as easily as good ones.
`PeerSpeaker` opens one session from a lab namespace with a raw TCP socket: OPEN with the
four-octet AS (RFC 6793) and IPv4 unicast (RFC 4760) capabilities, KEEPALIVEs on time, and it
keeps what the far end sent (its OPEN, how many UPDATEs, a NOTIFICATION). It never judges.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from emulator.core import wait
from emulator.core.errors import FramingError

BGP_PORT = 179
MARKER = b"\xff" * 16                  # RFC 4271 4.1
HEADER = struct.Struct("!16sHB")       # marker, length, type
HEADER_LEN = HEADER.size               # 19
MAX_MESSAGE_LEN = 4096                 # RFC 4271 4.1 (no RFC 8654 extended messages here)
AS_TRANS = 23456                       # RFC 6793 9


class MessageType(IntEnum):            # RFC 4271 4.1
    OPEN = 1
    UPDATE = 2
    NOTIFICATION = 3
    KEEPALIVE = 4


class AttrFlag(IntEnum):               # RFC 4271 4.3
    OPTIONAL = 0x80
    TRANSITIVE = 0x40
    PARTIAL = 0x20
    EXTENDED_LENGTH = 0x10


class AttrType(IntEnum):               # IANA BGP Path Attributes
    ORIGIN = 1
    AS_PATH = 2
    NEXT_HOP = 3
    MULTI_EXIT_DISC = 4
    LOCAL_PREF = 5
    ATOMIC_AGGREGATE = 6
    AGGREGATOR = 7
    COMMUNITIES = 8
    MP_REACH_NLRI = 14
    MP_UNREACH_NLRI = 15
    RESERVED_FOR_DEVELOPMENT = 255     # RFC 2042: never a recognized attribute


class Origin(IntEnum):                 # RFC 4271 4.3 a
    IGP = 0
    EGP = 1
    INCOMPLETE = 2


class Segment(IntEnum):                # RFC 4271 4.3 b
    AS_SET = 1
    AS_SEQUENCE = 2


AFI_IPV4 = 1
SAFI_UNICAST = 1
CAP_MULTIPROTOCOL = 1                  # RFC 4760 8
CAP_FOUR_OCTET_AS = 65                 # RFC 6793 9
OPT_PARAM_CAPABILITIES = 2             # RFC 5492 4

# RFC 4271 4.5 error codes and the subcodes the replay set meets.
UPDATE_MESSAGE_ERROR = 3
MALFORMED_ATTRIBUTE_LIST = 1
UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2
CEASE = 6
ADMINISTRATIVE_SHUTDOWN = 2            # RFC 4486 3

# Every attribute's flags as RFC 4271 5 and the attribute's own RFC fix them.
WELL_KNOWN = AttrFlag.TRANSITIVE
OPTIONAL_TRANSITIVE = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE
OPTIONAL_NON_TRANSITIVE = AttrFlag.OPTIONAL


# ------------------------------------------------------------------ encoders

def message(kind: int, body: bytes, length: int | None = None) -> bytes:
    """A whole message: the RFC 4271 4.1 header (length counted unless given) and the body."""
    return HEADER.pack(MARKER, HEADER_LEN + len(body) if length is None else length, kind) + body


def keepalive() -> bytes:
    return message(MessageType.KEEPALIVE, b"")


def notification(code: int, subcode: int, data: bytes = b"") -> bytes:
    return message(MessageType.NOTIFICATION, bytes([code, subcode]) + data)


def capability(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def open_message(asn: int, hold_time: int, router_id: str,
                 families: Iterable[tuple[int, int]] = ((AFI_IPV4, SAFI_UNICAST),)) -> bytes:
    """OPEN (RFC 4271 4.2) with capabilities (RFC 5492): multiprotocol per family, four-octet AS."""
    caps = b"".join(capability(CAP_MULTIPROTOCOL, struct.pack("!HBB", afi, 0, safi))
                    for afi, safi in families)
    caps += capability(CAP_FOUR_OCTET_AS, struct.pack("!I", asn))
    params = bytes([OPT_PARAM_CAPABILITIES, len(caps)]) + caps
    my_as = asn if asn <= 0xFFFF else AS_TRANS
    body = struct.pack("!BHH4sB", 4, my_as, hold_time, ipaddress.IPv4Address(router_id).packed,
                       len(params)) + params
    return message(MessageType.OPEN, body)


def nlri(prefixes: Iterable[str]) -> bytes:
    """Prefixes as length octet + the significant octets (RFC 4271 4.3, RFC 4760 5)."""
    out = b""
    for text in prefixes:
        network = ipaddress.ip_network(text)
        octets = (network.prefixlen + 7) // 8
        out += bytes([network.prefixlen]) + network.network_address.packed[:octets]
    return out


def attribute(flags: int, code: int, value: bytes, length: int | None = None) -> bytes:
    """One path attribute (RFC 4271 4.3); the Extended Length bit is set when the length needs it.

    `length` replaces the Attribute Length field, for attributes that lie about their size.
    """
    size = len(value) if length is None else length
    if size > 0xFF or flags & AttrFlag.EXTENDED_LENGTH:
        return struct.pack("!BBH", flags | AttrFlag.EXTENDED_LENGTH, code, size) + value
    return struct.pack("!BBB", flags, code, size) + value


def origin(value: int = Origin.IGP, flags: int = WELL_KNOWN) -> bytes:
    return attribute(flags, AttrType.ORIGIN, bytes([value]))


def as_path_segment(kind: int, asns: Sequence[int], count: int | None = None) -> bytes:
    """One AS_PATH segment with four-octet ASNs (RFC 6793 3); `count` overrides its length field."""
    return bytes([kind, len(asns) if count is None else count]) + b"".join(
        struct.pack("!I", asn) for asn in asns)


def as_path(asns: Sequence[int]) -> bytes:
    """An AS_PATH of one AS_SEQUENCE (empty when no ASNs are given)."""
    value = as_path_segment(Segment.AS_SEQUENCE, asns) if asns else b""
    return attribute(WELL_KNOWN, AttrType.AS_PATH, value)


def next_hop(address: str) -> bytes:
    return attribute(WELL_KNOWN, AttrType.NEXT_HOP, ipaddress.ip_address(address).packed)


def local_pref(value: int) -> bytes:
    return attribute(WELL_KNOWN, AttrType.LOCAL_PREF, struct.pack("!I", value))


def communities(values: Iterable[tuple[int, int]]) -> bytes:
    """COMMUNITIES (RFC 1997): each community as two 16-bit halves, ASN:value."""
    return attribute(OPTIONAL_TRANSITIVE, AttrType.COMMUNITIES,
                     b"".join(struct.pack("!HH", asn, value) for asn, value in values))


def atomic_aggregate() -> bytes:
    return attribute(WELL_KNOWN, AttrType.ATOMIC_AGGREGATE, b"")


def aggregator(asn: int, address: str) -> bytes:
    """AGGREGATOR as a four-octet-AS session carries it (RFC 6793 3: 8 octets)."""
    return attribute(OPTIONAL_TRANSITIVE, AttrType.AGGREGATOR,
                     struct.pack("!I", asn) + ipaddress.IPv4Address(address).packed)


def mp_reach_ipv4(hop: str, prefixes: Iterable[str]) -> bytes:
    """MP_REACH_NLRI for IPv4 unicast (RFC 4760 3): AFI, SAFI, next hop, a reserved octet, NLRI."""
    hop_octets = ipaddress.IPv4Address(hop).packed
    value = struct.pack("!HBB", AFI_IPV4, SAFI_UNICAST, len(hop_octets)) + hop_octets + b"\x00"
    return attribute(OPTIONAL_NON_TRANSITIVE, AttrType.MP_REACH_NLRI, value + nlri(prefixes))


def update(withdrawn: bytes = b"", attributes: bytes = b"", reachable: bytes = b"",
           total_attribute_length: int | None = None) -> bytes:
    """An UPDATE message (RFC 4271 4.3); `total_attribute_length` overrides that field."""
    size = len(attributes) if total_attribute_length is None else total_attribute_length
    body = (struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", size)
            + attributes + reachable)
    return message(MessageType.UPDATE, body)


# ------------------------------------------------------------------ decoders

@dataclass(frozen=True)
class Message:
    kind: int
    body: bytes


@dataclass(frozen=True)
class Notification:
    """A NOTIFICATION (RFC 4271 4.5), as received."""

    code: int
    subcode: int
    data: bytes

    @classmethod
    def decode(cls, body: bytes) -> "Notification":
        return cls(body[0], body[1], body[2:]) if len(body) >= 2 else cls(0, 0, body)

    def __str__(self) -> str:
        return f"NOTIFICATION {self.code}/{self.subcode} data {self.data.hex() or '-'}"


@dataclass(frozen=True)
class OpenMessage:
    version: int
    asn: int               # the four-octet AS if the capability carries one
    hold_time: int
    router_id: str
    capabilities: tuple[tuple[int, bytes], ...]

    @classmethod
    def decode(cls, body: bytes) -> "OpenMessage":
        version, my_as, hold, rid, params_len = struct.unpack("!BHH4sB", body[:10])
        params, caps = body[10:10 + params_len], []
        while len(params) >= 2:
            kind, size = params[0], params[1]
            value, params = params[2:2 + size], params[2 + size:]
            while kind == OPT_PARAM_CAPABILITIES and len(value) >= 2:
                caps.append((value[0], value[2:2 + value[1]]))
                value = value[2 + value[1]:]
        asn = next((struct.unpack("!I", v)[0] for c, v in caps
                    if c == CAP_FOUR_OCTET_AS and len(v) == 4), my_as)
        return cls(version, asn, hold, str(ipaddress.IPv4Address(rid)), tuple(caps))


def split(buffer: bytes) -> tuple[list[Message], bytes]:
    """Whole messages at the front of a TCP byte stream, and the bytes left over."""
    found = []
    while len(buffer) >= HEADER_LEN:
        marker, length, kind = HEADER.unpack_from(buffer)
        if marker != MARKER or not HEADER_LEN <= length <= MAX_MESSAGE_LEN:
            raise FramingError(f"bad BGP header {buffer[:HEADER_LEN].hex()}")
        if len(buffer) < length:
            break
        found.append(Message(kind, buffer[HEADER_LEN:length]))
        buffer = buffer[length:]
    return found, buffer


# ------------------------------------------------------------------ the speaker

@dataclass(frozen=True)
class SpeakerConfig:
    netns: str | None      # the namespace the TCP connection starts from (None: this one)
    local_address: str
    remote_address: str
    asn: int
    router_id: str
    hold_time: int
    port: int = BGP_PORT
    max_lifetime: float = 900.0   # the session is given up after this, whatever happens


class PeerSpeaker:
    """One BGP session from a lab namespace, driven by a test: send bytes, read what came back.

    A reader thread keeps the session alive (KEEPALIVE every hold time / 3, RFC 4271 4.4) and
    records the far end's OPEN, KEEPALIVEs, UPDATEs and NOTIFICATION until the TCP connection
    closes, the speaker is closed, or `max_lifetime` runs out.
    """

    TICK = 0.2             # how long the reader blocks in recv before it looks at the timers
    MAX_READS = 100_000    # passes that found data, on top of those that waited a TICK

    def __init__(self, config: SpeakerConfig):
        self.config = config
        self.peer_open: OpenMessage | None = None
        self.keepalives = 0
        self.updates = 0
        self.notification: Notification | None = None
        self.closed_by_peer = False
        self.error = ""
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    # -- state, as observed

    @property
    def established(self) -> bool:
        """OPENs exchanged and a KEEPALIVE received (RFC 4271 8.2.2, OpenConfirm → Established)."""
        return self.peer_open is not None and self.keepalives > 0 and not self.down

    @property
    def down(self) -> bool:
        return self.closed_by_peer or self.notification is not None or bool(self.error)

    def describe(self) -> str:
        state = "Established" if self.established else ("down" if self.down else "opening")
        details = [state, f"{self.updates} UPDATEs received"]
        if self.notification:
            details.append(f"received {self.notification}")
        if self.closed_by_peer:
            details.append("TCP closed by the peer")
        if self.error:
            details.append(self.error)
        return ", ".join(details)

    # -- actions

    def connect(self) -> None:
        """TCP from the namespace, our OPEN; then wait (ebgp_session budget) for Established."""
        c = self.config
        if c.netns is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        else:
            from pyroute2.netns import create_socket
            # flags=0: the namespace must exist already, never create one.
            sock = create_socket(c.netns, socket.AF_INET, socket.SOCK_STREAM, flags=0)
        try:
            sock.settimeout(wait.BUDGETS["ebgp_session"])
            sock.bind((c.local_address, 0))
            sock.connect((c.remote_address, c.port))
            sock.settimeout(self.TICK)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.send(open_message(c.asn, c.hold_time, c.router_id))
        self._reader = threading.Thread(target=self._read, name=f"bgp-{c.remote_address}",
                                        daemon=True)
        self._reader.start()
        wait.until("ebgp_session", self._opening,
                   lambda s: "" if s.established else f"{c.local_address} -> "
                   f"{c.remote_address}: {s.describe()}")

    def _opening(self) -> "PeerSpeaker":
        if self.down:
            raise ConnectionError(f"{self.config.local_address} -> "
                                  f"{self.config.remote_address}: {self.describe()}")
        return self

    def send(self, data: bytes) -> None:
        if self._sock is None:
            raise ConnectionError("not connected")
        with self._send_lock:
            self._sock.sendall(data)

    def close(self, farewell: bytes | None = notification(CEASE, ADMINISTRATIVE_SHUTDOWN)) -> None:
        """End the session (a Cease NOTIFICATION first, RFC 4486 3, if it is still up)."""
        self._stop.set()
        if self._sock is not None:
            if farewell and not self.down:
                try:
                    self.send(farewell)
                except OSError:
                    pass
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._reader is not None:
            self._reader.join(timeout=wait.BUDGETS["process_exit"])
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- the reader thread

    def _read(self) -> None:
        sock, buffer = self._sock, b""
        assert sock is not None
        next_keepalive = 0.0
        deadline = time.monotonic() + self.config.max_lifetime
        # Each pass waits up to TICK or consumes what arrived: bounded by time and by count.
        for _ in range(int(self.config.max_lifetime / self.TICK) + self.MAX_READS):
            now = time.monotonic()
            if self._stop.is_set() or self.down:
                return
            if now >= deadline:
                break
            if self.peer_open is not None and now >= next_keepalive:
                try:
                    self.send(keepalive())
                except OSError as exc:
                    self.error = f"send failed: {exc}"
                    return
                next_keepalive = now + self._keepalive_interval()
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as exc:
                if not self._stop.is_set():
                    self.error = f"recv failed: {exc}"
                return
            if not chunk:
                self.closed_by_peer = True
                return
            try:
                messages, buffer = split(buffer + chunk)
            except FramingError as exc:
                self.error = str(exc)
                return
            for received in messages:
                self._record(received)
        self.error = f"given up after {self.config.max_lifetime:.0f} s (max_lifetime)"

    def _keepalive_interval(self) -> float:
        """A third of the negotiated hold time (RFC 4271 4.2, 4.4); zero means none at all."""
        assert self.peer_open is not None
        hold = min(self.config.hold_time, self.peer_open.hold_time)
        return hold / 3 if hold else float("inf")

    def _record(self, received: Message) -> None:
        if received.kind == MessageType.OPEN:
            self.peer_open = OpenMessage.decode(received.body)
        elif received.kind == MessageType.KEEPALIVE:
            self.keepalives += 1
        elif received.kind == MessageType.UPDATE:
            self.updates += 1
        elif received.kind == MessageType.NOTIFICATION:
            self.notification = Notification.decode(received.body)
