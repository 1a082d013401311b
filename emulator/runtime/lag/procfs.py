"""A kernel bond's LACP state read from /proc/net/bonding/<bond>, for where netlink is not at
hand (inside a container, by the node agent; or through `docker exec ... cat`).

The report is the kernel's (drivers/net/bonding/bond_procfs.c): the bond's active aggregator,
then per member ("Slave Interface") its MII status, aggregator and the actor's and partner's
LACPDU port state, a decimal byte of IEEE 802.1AX-2014 6.4.2.3 bits. The result is the same
LagState the netlink reader (emulator.runtime.lag.bond.member_state) gives, with the same
meaning of up: enabled, collecting and distributing.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from emulator.runtime.lag.bond import LACP_COLLECTING, LACP_DISTRIBUTING, LACP_SYNCHRONIZATION
from emulator.runtime.lag.state import LagState, MemberState

PROC_NET_BONDING = Path("/proc/net/bonding")

_MEMBER = re.compile(r"^Slave Interface: (\S+)", re.M)
_ACTIVE_AGGREGATOR = re.compile(r"^Active Aggregator Info:\s*\n\s*Aggregator ID: (\d+)", re.M)


def _field(block: str, name: str) -> str | None:
    found = re.search(rf"^{re.escape(name)}: (.*)$", block, re.M)
    return found.group(1).strip() if found else None


def _port_state(block: str, side: str) -> int:
    """The port state of the actor's or the partner's LACPDU details (0 when absent)."""
    details = re.search(rf"^details {side} lacp pdu:\n((?:[ \t]+.*\n?)*)", block, re.M)
    state = re.search(r"port state: (\d+)", details.group(1)) if details else None
    return int(state.group(1)) if state else 0


def parse(node: str, ifname: str, text: str, observed_at: float | None = None) -> LagState:
    """The LagState of one bond from its /proc/net/bonding report."""
    active = _ACTIVE_AGGREGATOR.search(text)
    starts = [m.start() for m in _MEMBER.finditer(text)] + [len(text)]
    members = []
    for begin, end in zip(starts, starts[1:]):
        block = text[begin:end]
        member = _MEMBER.match(block).group(1)       # type: ignore[union-attr]
        actor, partner = _port_state(block, "actor"), _port_state(block, "partner")
        # The bond forwards on a member whose link is up and that is in the active aggregator
        # (IEEE 802.1AX-2014 6.4.14: one aggregator is selected); the kernel's "slave active".
        in_aggregator = active is None or _field(block, "Aggregator ID") == active.group(1)
        enabled = _field(block, "MII Status") == "up" and in_aggregator
        members.append(MemberState(member, enabled, bool(actor & LACP_COLLECTING),
                                   bool(actor & LACP_DISTRIBUTING),
                                   bool(partner & LACP_SYNCHRONIZATION),
                                   f"actor 0x{actor:02x} partner 0x{partner:02x}"))
    return LagState(node, ifname, tuple(members),
                    time.time() if observed_at is None else observed_at)


def read(node: str, ifname: str, path: Path | None = None) -> LagState:
    """The bond's state now; no members while the bond does not exist (yet)."""
    try:
        text = (path or PROC_NET_BONDING / ifname).read_text()
    except OSError:
        text = ""
    return parse(node, ifname, text)
