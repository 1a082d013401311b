"""The RFC 7606 replay set on the wire: encodings, the crafted defects, the speaker; no root.

Well-formed messages are read back with scapy's BGP layers, an implementation other than ours.
The crafted UPDATEs are walked octet by octet here, so that each case is shown to carry the
defect its RFC clause names and nothing else. The golden file pins every crafted message.
"""
from __future__ import annotations

import os
import socket
import struct
import threading

import pytest
from scapy.contrib import bgp as scapy_bgp

from emulator.edge import wire
from emulator.judge import replay
from emulator.core import wait
from emulator.judge.replay import Effect, Handling
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "rfc7606-replay.txt"
PEER = replay.Peer(64500, "198.18.0.0", "2001:db8:ffff::")
PREFIX = "198.19.16.0/24"


@pytest.fixture
def four_octet_scapy():
    """scapy reads AS_PATH with four-octet ASNs (RFC 6793 NEW speakers) while the test runs."""
    saved = scapy_bgp.bgp_module_conf.use_2_bytes_asn
    scapy_bgp.bgp_module_conf.use_2_bytes_asn = False
    yield scapy_bgp
    scapy_bgp.bgp_module_conf.use_2_bytes_asn = saved


def walk(message: bytes) -> tuple[bytes, list[tuple[int, int, int, bytes]], bytes, int]:
    """An UPDATE taken apart without judging it: withdrawn routes, attributes as (flags, code,
    declared length, octets present), the octets after the attribute section, and the
    declared Total Path Attribute Length."""
    body = message[wire.HEADER_LEN:]
    wlen = struct.unpack("!H", body[:2])[0]
    withdrawn, rest = body[2:2 + wlen], body[2 + wlen:]
    alen = struct.unpack("!H", rest[:2])[0]
    section, after = rest[2:2 + alen], rest[2 + alen:]
    attributes = []
    while section:
        flags, code = section[0], section[1]
        if flags & wire.AttrFlag.EXTENDED_LENGTH:
            length, header = struct.unpack("!H", section[2:4])[0], 4
        else:
            length, header = section[2], 3
        attributes.append((flags, code, length, section[header:header + length]))
        section = section[header + length:]
    return withdrawn, attributes, after, alen


def crafted(name: str) -> bytes:
    return replay.case(name).craft(PREFIX, PEER)


def attrs_of(name: str, code: int) -> list[tuple[int, int, int, bytes]]:
    return [a for a in walk(crafted(name))[1] if a[1] == code]


# ------------------------------------------------------------------ well-formed messages

def test_keepalive_is_a_bare_header():
    assert wire.keepalive() == b"\xff" * 16 + b"\x00\x13\x04"


def test_open_read_back_by_scapy(four_octet_scapy):
    raw = wire.open_message(64500, 10, "10.0.0.1")
    parsed = four_octet_scapy.BGPHeader(raw)
    assert parsed.len == len(raw) and parsed.type == wire.MessageType.OPEN
    body = parsed[four_octet_scapy.BGPOpen]
    assert (body.version, body.my_as, body.hold_time, body.bgp_id) == (4, 64500, 10, "10.0.0.1")
    mp = body.opt_params[0].param_value[0]
    assert (mp.code, mp.afi, mp.safi) == (wire.CAP_MULTIPROTOCOL, wire.AFI_IPV4, wire.SAFI_UNICAST)


def test_open_with_a_four_octet_asn_says_as_trans():
    decoded = wire.OpenMessage.decode(wire.open_message(4200000001, 9, "192.0.2.1")[19:])
    # RFC 6793 4.2.2: My Autonomous System is AS_TRANS, the capability carries the real one.
    assert struct.unpack("!H", wire.open_message(4200000001, 9, "192.0.2.1")[20:22])[0] == 23456
    assert (decoded.asn, decoded.hold_time, decoded.router_id) == (4200000001, 9, "192.0.2.1")
    assert dict(decoded.capabilities)[wire.CAP_FOUR_OCTET_AS] == struct.pack("!I", 4200000001)


def test_good_update_read_back_by_scapy(four_octet_scapy):
    raw = replay.good_update(["198.19.1.0/24", "10.0.0.0/8", "0.0.0.0/0"], PEER, [64500, 65537])
    parsed = four_octet_scapy.BGPHeader(raw)
    update = parsed[four_octet_scapy.BGPUpdate]
    origin, path, hop = update.path_attr
    assert (origin.type_code, origin.attribute.origin) == (1, 0)
    assert path.attribute.segments[0].segment_value == [64500, 65537]
    assert hop.attribute.next_hop == "198.18.0.0"
    assert [n.prefix for n in update.nlri] == ["198.19.1.0/24", "10.0.0.0/8", "0.0.0.0/0"]


def test_nlri_carries_only_the_significant_octets():
    assert wire.nlri(["198.19.1.0/24"]) == bytes([24, 198, 19, 1])
    assert wire.nlri(["198.19.1.128/25"]) == bytes([25, 198, 19, 1, 128])
    assert wire.nlri(["0.0.0.0/0", "192.0.2.1/32"]) == bytes([0, 32, 192, 0, 2, 1])


def test_extended_length_is_used_when_a_value_needs_it():
    long = wire.attribute(wire.OPTIONAL_TRANSITIVE, wire.AttrType.COMMUNITIES, bytes(300))
    assert long[0] == wire.OPTIONAL_TRANSITIVE | wire.AttrFlag.EXTENDED_LENGTH
    assert struct.unpack("!H", long[2:4])[0] == 300 and len(long) == 304
    assert wire.attribute(wire.WELL_KNOWN, 1, b"\x00", length=9) == b"\x40\x01\x09\x00"


def test_aggregator_and_atomic_aggregate_as_a_four_octet_session_sends_them():
    assert wire.atomic_aggregate() == b"\x40\x06\x00"
    assert wire.aggregator(64500, "192.0.2.1") == b"\xc0\x07\x08\x00\x00\xfb\xf4\xc0\x00\x02\x01"


def test_split_frames_a_stream_and_keeps_the_rest():
    stream = wire.keepalive() + wire.notification(3, 1, b"xy") + wire.keepalive()[:7]
    messages, rest = wire.split(stream)
    assert [m.kind for m in messages] == [wire.MessageType.KEEPALIVE, wire.MessageType.NOTIFICATION]
    assert wire.Notification.decode(messages[1].body) == wire.Notification(3, 1, b"xy")
    assert rest == wire.keepalive()[:7]
    with pytest.raises(wire.FramingError):
        wire.split(b"\x00" * 19)


# ------------------------------------------------------------------ the replay set as data

def test_every_case_is_named_once_and_cites_its_clause():
    names = [c.name for c in replay.REPLAY_SET]
    assert len(names) == len(set(names))
    for c in replay.REPLAY_SET:
        assert c.clause.startswith("RFC "), c
        assert (c.notification is not None) == (c.handling is Handling.SESSION_RESET), c


def test_the_replay_covers_every_approach():
    assert {c.handling for c in replay.REPLAY_SET} == set(Handling)


def test_prefixes_never_overlap():
    indexes = range(len(replay.REPLAY_SET))
    used = ([*replay.GOOD_PREFIXES] + [replay.case_prefix(i) for i in indexes]
            + [replay.marker_prefix(i) for i in indexes])
    assert len(used) == len(set(used))


def test_effects_of_the_handlings():
    assert Handling.TREAT_AS_WITHDRAW.effect is Effect.WITHDRAWN
    assert Handling.ATTRIBUTE_DISCARD.effect is Effect.UPDATED
    assert Handling.ACCEPT.effect is Effect.UPDATED
    assert Handling.SESSION_RESET.effect is Effect.SESSION_RESET


# ------------------------------------------------------------------ each crafted defect

@pytest.mark.parametrize("case", replay.REPLAY_SET, ids=lambda c: c.name)
def test_every_crafted_update_is_framed_as_one_update(case):
    raw = case.craft(PREFIX, PEER)
    messages, rest = wire.split(raw)
    assert rest == b"" and [m.kind for m in messages] == [wire.MessageType.UPDATE]


def test_origin_defects():
    assert attrs_of("origin-undefined-value", 1) == [(0x40, 1, 1, b"\x03")]
    assert attrs_of("origin-length-2", 1) == [(0x40, 1, 2, b"\x00\x00")]
    assert attrs_of("origin-length-0", 1) == [(0x40, 1, 0, b"")]
    assert attrs_of("origin-flagged-optional", 1) == [(0xC0, 1, 1, b"\x00")]
    assert attrs_of("origin-missing", 1) == []
    assert [a[1] for a in walk(crafted("origin-missing"))[1]] == [2, 3]


def test_as_path_defects():
    (_, _, _, value), = attrs_of("as-path-segment-type", 2)
    assert value[0] == 5 and value[1] == 2 and len(value) == 2 + 8
    (_, _, length, value), = attrs_of("as-path-segment-overrun", 2)
    assert value[1] == 3 and length == len(value) == 2 + 8      # claims 3 ASNs, holds 2
    (_, _, _, value), = attrs_of("as-path-segment-empty", 2)
    assert value[:2] == bytes([wire.Segment.AS_SEQUENCE, 0]) and value[2:4] == b"\x02\x02"


def test_next_hop_defects():
    assert attrs_of("next-hop-length-5", 3) == [(0x40, 3, 5, bytes([198, 18, 0, 0, 0]))]
    (_, _, length, value), = attrs_of("next-hop-length-16", 3)
    assert length == 16 and socket.inet_ntop(socket.AF_INET6, value) == "2001:db8:ffff::"


def test_optional_attribute_defects():
    (flags, _, length, _), = attrs_of("communities-length-6", 8)
    assert (flags, length) == (0xC0, 6)
    assert attrs_of("atomic-aggregate-length-1", 6) == [(0x40, 6, 1, b"\x00")]
    (flags, _, length, value), = attrs_of("aggregator-length-6", 7)
    assert (flags, length, value[:2]) == (0xC0, 6, struct.pack("!H", 64500))
    assert [a[3] for a in attrs_of("communities-twice", 8)] == [
        struct.pack("!HH", 64500, 1), struct.pack("!HH", 64500, 2)]
    assert attrs_of("unknown-optional-transitive", 255) == [(0xC0, 255, 8, b"maps-lab")]


def test_attribute_overrun_stays_inside_a_correct_total_length():
    _, attributes, after, alen = walk(crafted("attribute-overruns-section"))
    flags, code, length, present = attributes[-1]
    assert (code, length, len(present)) == (8, 8, 4)          # runs 4 octets past the section
    assert after == wire.nlri([PREFIX])                        # the NLRI are still found


def test_mp_reach_twice_and_nothing_else_reachable():
    withdrawn, attributes, after, _ = walk(crafted("mp-reach-twice"))
    reach = [a for a in attributes if a[1] == wire.AttrType.MP_REACH_NLRI]
    assert len(reach) == 2 and reach[0] == reach[1] and reach[0][0] == 0x80
    assert reach[0][3].endswith(wire.nlri([PREFIX])) and withdrawn == after == b""


def test_total_attribute_length_runs_past_the_message():
    raw = crafted("total-attribute-length-overrun")
    wlen = struct.unpack("!H", raw[19:21])[0]
    alen = struct.unpack("!H", raw[21 + wlen:23 + wlen])[0]
    assert wlen + alen + 23 > len(raw)                         # RFC 7606 3.b


def test_golden_wire_of_every_case():
    text = "".join(f"{c.name} {c.craft(PREFIX, PEER).hex()}\n" for c in replay.REPLAY_SET)
    if os.environ.get("MAPSLAB_REGOLD"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), f"differs from {GOLDEN} (MAPSLAB_REGOLD=1 rewrites it)"


# ------------------------------------------------------------------ observations, judged later

def _observation(before, after, *, settled=True, down=False, **routes):
    return replay.CaseObservation("c", "sea-ms1", "198.18.0.0", PREFIX, "198.19.128.0/24",
                                  before, after, settled, down, None, down,
                                  routes.get("routes_before", {}), routes.get("routes_after", {}))


def test_effect_tells_withdrawn_updated_ignored_and_reset_apart():
    held = {"received": 1.0, "as_path": [64500]}
    assert _observation(held, None).effect is Effect.WITHDRAWN
    assert _observation(held, {"received": 2.0}).effect is Effect.UPDATED
    assert _observation(held, dict(held)).effect is Effect.UNCHANGED
    assert _observation(held, None, down=True).effect is Effect.SESSION_RESET
    assert _observation(held, None, settled=False).effect is Effect.UNSETTLED


def test_collateral_leaves_out_the_case_own_routes_only():
    own = ("sea-ms1", "198.18.0.0", PREFIX)
    other = ("sea-ms2", "198.18.0.2", "192.0.2.0/24")
    good = ("sea-ms1", "198.18.0.0", "198.19.0.0/24")
    before = {own: {"received": 1}, other: {"received": 1}, good: {"received": 1}}
    after = {other: {"received": 2}}
    seen = _observation(None, None, routes_before=before, routes_after=after)
    assert seen.collateral() == ["sea-ms1: 198.19.0.0/24 from 198.18.0.0 removed",
                                 "sea-ms2: 192.0.2.0/24 from 198.18.0.2 changed (received)"]
    reset = _observation(None, None, down=True, routes_before=before, routes_after=after)
    assert reset.collateral() == ["sea-ms2: 192.0.2.0/24 from 198.18.0.2 changed (received)"]


# ------------------------------------------------------------------ the speaker, on loopback

def _fake_edge(server: socket.socket, got: list[bytes]) -> None:
    """Accept one session, complete OPEN/KEEPALIVE, answer the first UPDATE with 3/1."""
    server.settimeout(5)
    conn, _ = server.accept()
    conn.settimeout(5)
    with conn:
        conn.sendall(wire.open_message(8075, 9, "10.80.75.1") + wire.keepalive())
        buffer = b""
        for _ in range(50):
            chunk = conn.recv(4096)
            if not chunk:
                return
            messages, buffer = wire.split(buffer + chunk)
            got += [bytes([m.kind]) for m in messages]
            if any(m.kind == wire.MessageType.UPDATE for m in messages):
                conn.sendall(wire.notification(3, 1, b"multiple attribute"))
                return


def test_speaker_opens_a_session_and_reads_the_notification():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got: list[bytes] = []
    edge = threading.Thread(target=_fake_edge, args=(server, got), daemon=True)
    edge.start()
    config = wire.SpeakerConfig(None, "127.0.0.1", "127.0.0.1", 64500, "192.0.2.1", 9,
                                port=server.getsockname()[1], max_lifetime=10)
    speaker = wire.PeerSpeaker(config)
    try:
        speaker.connect()
        assert speaker.established and speaker.peer_open.asn == 8075
        speaker.send(crafted("mp-reach-twice"))
        edge.join(timeout=5)
        wait.until("process_exit", lambda: speaker, lambda s: "" if s.down else s.describe())
    finally:
        speaker.close()
        server.close()
    assert speaker.notification == wire.Notification(3, 1, b"multiple attribute")
    assert not speaker.established
    assert got[0] == bytes([wire.MessageType.OPEN]) and bytes([wire.MessageType.UPDATE]) in got


def test_the_cases_exabgp_lets_through_are_crafted_as_named():
    assert attrs_of("next-hop-missing", 3) == []
    assert [a[1] for a in walk(crafted("next-hop-missing"))[1]] == [1, 2]
    assert attrs_of("local-pref-from-external", 5) == [(0x40, 5, 4, struct.pack("!I", 200))]
    assert attrs_of("unrecognized-well-known", 255) == [(0x40, 255, 8, b"maps-lab")]
    assert replay.case("local-pref-from-external").discards == "LOCAL_PREF"


@pytest.mark.parametrize("case", replay.REPLAY_SET, ids=lambda c: c.name)
def test_the_agents_wire_check_finds_exactly_what_exabgp_lets_through(case):
    """emulator.edge.received on each case's body: only the defects ExaBGP's JSON hides."""
    from emulator.edge.received import defects
    found = [(d.clause, d.handling.value) for d in defects(crafted(case.name)[19:], True)]
    expected = {"origin-length-2": [("RFC 7606 7.1", "treat-as-withdraw")],
                "next-hop-missing": [("RFC 7606 3.d", "treat-as-withdraw")],
                "local-pref-from-external": [("RFC 7606 7.5", "attribute-discard")],
                "origin-length-0": [("RFC 7606 7.1", "treat-as-withdraw")]}
    assert found == expected.get(case.name, []), case.name
    assert not [d for d in defects(crafted("local-pref-from-external")[19:], False)]
