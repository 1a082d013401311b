"""Add, replace and delete unicast routes over rtnetlink: what the edge agent's FIB needs, no more.

The messages are those of rtnetlink(7) and RFC 3549 2.3.3.2 (RTM_NEWROUTE / RTM_DELROUTE): a
netlink header, a struct rtmsg, then RTA_DST and RTA_GATEWAY attributes; every request asks for
an acknowledgement (an NLMSG_ERROR whose error is 0 on success, -errno otherwise). Importing a
netlink library costs every agent a tenth of a second of CPU at start; these few bytes do not.
"""
from __future__ import annotations

import ipaddress
import itertools
import os
import socket
import struct

NETLINK_ROUTE = 0
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_CREATE = 0x1, 0x4, 0x100, 0x400
RT_TABLE_MAIN = 254
RT_SCOPE_UNIVERSE, RT_SCOPE_NOWHERE = 0, 255
RTN_UNICAST = 1
RTA_DST, RTA_GATEWAY = 1, 5

_HEADER = struct.Struct("=IHHII")       # struct nlmsghdr: len, type, flags, seq, pid
_RTMSG = struct.Struct("=BBBBBBBBI")    # struct rtmsg: family, dst_len, src_len, tos, table,
                                        # protocol, scope, type, flags
_RTA = struct.Struct("=HH")             # struct rtattr: len, type


class RouteError(OSError):
    """The kernel refused a request (errno and strerror as an OSError's)."""


def _attribute(kind: int, data: bytes) -> bytes:
    size = _RTA.size + len(data)
    return _RTA.pack(size, kind) + data + b"\0" * (-size % 4)


def route_message(kind: int, seq: int, prefix: str, next_hop: str | None, protocol: int) -> bytes:
    """One RTM_NEWROUTE (replace, create) or RTM_DELROUTE request for `prefix` in the main
    table. ValueError when the next hop is not of the prefix's family."""
    network = ipaddress.ip_network(prefix, strict=False)
    family = socket.AF_INET if network.version == 4 else socket.AF_INET6
    attrs = _attribute(RTA_DST, network.network_address.packed)
    if next_hop is not None:
        gateway = ipaddress.ip_address(next_hop)
        if gateway.version != network.version:
            raise ValueError(f"next hop {next_hop} is not of {prefix}'s family")
        attrs += _attribute(RTA_GATEWAY, gateway.packed)
    if kind == RTM_NEWROUTE:
        flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE
        scope = RT_SCOPE_UNIVERSE
    else:
        flags, scope = NLM_F_REQUEST | NLM_F_ACK, RT_SCOPE_NOWHERE
    body = _RTMSG.pack(family, network.prefixlen, 0, 0, RT_TABLE_MAIN, protocol, scope,
                       RTN_UNICAST, 0) + attrs
    return _HEADER.pack(_HEADER.size + len(body), kind, flags, seq, 0) + body


def ack_error(reply: bytes, seq: int) -> int | None:
    """The errno of the acknowledgement to `seq` in one read (0: done), None if it is not there."""
    offset = 0
    while offset + _HEADER.size <= len(reply):
        length, kind, _flags, got, _pid = _HEADER.unpack_from(reply, offset)
        if length < _HEADER.size:
            break
        if kind == NLMSG_ERROR and got == seq:
            (error,) = struct.unpack_from("=i", reply, offset + _HEADER.size)
            return -error
        offset += (length + 3) & ~3
    return None


class Routes:
    """A netlink socket in the calling process's network namespace."""

    def __init__(self, protocol: int):
        self.protocol = protocol
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self._seq = itertools.count(1)

    def _request(self, kind: int, prefix: str, next_hop: str | None) -> None:
        seq = next(self._seq)
        self.sock.send(route_message(kind, seq, prefix, next_hop, self.protocol))
        while True:
            error = ack_error(self.sock.recv(65536), seq)
            if error is None:
                continue
            if error:
                raise RouteError(error, os.strerror(error))
            return

    def replace(self, prefix: str, next_hop: str) -> None:
        self._request(RTM_NEWROUTE, prefix, next_hop)

    def delete(self, prefix: str) -> None:
        self._request(RTM_DELROUTE, prefix, None)

    def close(self) -> None:
        self.sock.close()
