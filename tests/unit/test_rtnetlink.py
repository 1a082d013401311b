"""The rtnetlink requests of the edge agent's FIB, byte for byte (rtnetlink(7))."""
from __future__ import annotations

import socket
import struct

import pytest

from emulator.edge import rtnetlink as rt


def test_a_replace_carries_the_prefix_next_hop_and_protocol():
    msg = rt.route_message(rt.RTM_NEWROUTE, 7, "203.0.113.0/24", "198.18.0.2", 186)
    length, kind, flags, seq, pid = struct.unpack_from("=IHHII", msg)
    assert (length, kind, seq, pid) == (len(msg), rt.RTM_NEWROUTE, 7, 0)
    assert flags == rt.NLM_F_REQUEST | rt.NLM_F_ACK | rt.NLM_F_REPLACE | rt.NLM_F_CREATE
    family, dst_len, _src, _tos, table, proto, scope, kind_, _f = struct.unpack_from(
        "=BBBBBBBBI", msg, 16)
    assert (family, dst_len, table, proto, scope, kind_) == (
        socket.AF_INET, 24, rt.RT_TABLE_MAIN, 186, rt.RT_SCOPE_UNIVERSE, rt.RTN_UNICAST)
    # RTA_DST then RTA_GATEWAY, 4 + 4 bytes each
    assert msg[28:36] == struct.pack("=HH", 8, rt.RTA_DST) + bytes([203, 0, 113, 0])
    assert msg[36:44] == struct.pack("=HH", 8, rt.RTA_GATEWAY) + bytes([198, 18, 0, 2])
    assert len(msg) == 44


def test_a_delete_of_an_ipv6_prefix_has_no_gateway_and_scope_nowhere():
    msg = rt.route_message(rt.RTM_DELROUTE, 1, "2001:db8:77::/48", None, 186)
    assert struct.unpack_from("=H", msg, 6)[0] == rt.NLM_F_REQUEST | rt.NLM_F_ACK
    family, dst_len = msg[16], msg[17]
    assert (family, dst_len, msg[22]) == (socket.AF_INET6, 48, rt.RT_SCOPE_NOWHERE)
    assert msg[28:32] == struct.pack("=HH", 20, rt.RTA_DST) and len(msg) == 48


def test_a_next_hop_of_another_family_is_refused():
    with pytest.raises(ValueError, match="family"):
        rt.route_message(rt.RTM_NEWROUTE, 1, "2001:db8:77::/48", "198.18.0.2", 186)


def _error(seq: int, errno: int) -> bytes:
    body = struct.pack("=i", -errno) + struct.pack("=IHHII", 16, 0, 0, seq, 0)
    return struct.pack("=IHHII", 16 + len(body), rt.NLMSG_ERROR, 0, seq, 0) + body


def test_the_acknowledgement_to_the_request_is_found_and_decoded():
    assert rt.ack_error(_error(3, 0), 3) == 0
    assert rt.ack_error(_error(2, 0) + _error(3, 101), 3) == 101      # ENETUNREACH
    assert rt.ack_error(_error(2, 0), 3) is None
    assert rt.ack_error(b"", 3) is None
