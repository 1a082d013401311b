"""ExaBGP 5.0.15 as the edge runs it: its own server, with one parser rule it lacks.

RFC 4271 6.3: "If any of the well-known mandatory attributes are not recognized, then the Error
Subcode MUST be set to Unrecognized Well-known Attribute. The Data field MUST contain the
unrecognized attribute (type, length, and value)." RFC 7606 keeps this a NOTIFICATION (its
section 3 leaves errors it does not treat to RFC 4271). ExaBGP 5.0.15 keeps an attribute it does
not know whose Optional bit is clear as an unknown transitive one, and its API can send no
NOTIFICATION but a Cease, so the edge agent cannot do it: the speaker checks each attribute's
flags and type before ExaBGP's parser and raises the NOTIFICATION ExaBGP then sends.

And one reload rule it lacks: the edge removes a link's neighbors (its LAG went down) and adds them
back once the LAG is up again, each time by a reload (SIGUSR1). ExaBGP 5.0.15 keeps a removed
neighbor's peer until the peer has closed, a loop or more later; a reload in between finds the
neighbor "unchanged", leaves the closing peer alone, and the neighbor is then gone for good. The
speaker has such a peer start again (`reestablish`), as a changed neighbor would. And ExaBGP
defers a reload while any peer it is trying to reach has updates queued (Reactor._pending_adjribout);
a peer that is not Established has nothing in flight (it is sent its whole table when its session
comes up, RFC 4271 9.4 aside), yet one kept down by its neighbor (a tripped prefix limit) would hold
every later reload of the edge back for good: the speaker waits for Established peers only.

How its reactor sleeps: emulator.edge.reactor_sleep.

Run as `python -m emulator.edge.speaker server CONFIG`, the arguments of the `exabgp` command.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from emulator.edge import reactor_sleep
from emulator.edge.wire import UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, UPDATE_MESSAGE_ERROR, AttrFlag


def unrecognized_well_known(data: bytes, known: Callable[[int], bool]) -> bytes | None:
    """The first attribute of `data` (type, length and value) if it is well-known (Optional
    bit clear) and of a type the speaker does not recognise, else None."""
    if len(data) < 3:
        return None
    flags, code = data[0], data[1]
    if flags & AttrFlag.OPTIONAL or known(code):
        return None
    header = 4 if flags & AttrFlag.EXTENDED_LENGTH else 3
    if len(data) < header:
        return None
    length = int.from_bytes(data[2:header], "big")
    # RFC 4271 4.3: the Attribute Type is two octets, the flags and the type code.
    return bytes(data[:header + length])


def install() -> None:
    """Put the rule in front of ExaBGP's attribute parser (Attributes._parse_one)."""
    from exabgp.bgp.message.notification import Notify
    from exabgp.bgp.message.update.attribute.attribute import Attribute
    from exabgp.bgp.message.update.attribute.attributes import Attributes

    parse_one: Callable[..., Any] = Attributes._parse_one

    def _parse_one(self: Any, data: bytes, direction: Any, negotiated: Any) -> Any:
        attribute = unrecognized_well_known(data, lambda code: code in Attribute.attributes_known)
        if attribute is not None:
            raise Notify(UPDATE_MESSAGE_ERROR, UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, attribute)
        return parse_one(self, data, direction, negotiated)

    Attributes._parse_one = _parse_one          # type: ignore[method-assign]


def closing(peer: Any) -> bool:
    """A peer a reload removed (Peer.remove: torn down, not to restart) that has not closed."""
    return getattr(peer, "_teardown", None) is not None and not getattr(peer, "_restart", True)


def revive_readded(reactor: Any) -> list[str]:
    """Have every configured neighbor whose peer is still closing from an earlier removal start
    again with its new definition; the keys of those peers."""
    revived = []
    for key, neighbor in reactor.configuration.neighbors.items():
        peer = reactor._peers.get(key)
        if peer is not None and closing(peer):
            peer.reestablish(neighbor)
            revived.append(key)
    return revived


def updates_in_flight(reactor: Any, established: Any) -> bool:
    """Whether an Established peer still has updates to send (what a reload waits for)."""
    for key in reactor.active_peers():
        peer = reactor._peers[key]
        if peer.fsm == established and peer.neighbor.rib.outgoing.pending():
            return True
    return False


def install_reload_rule() -> None:
    """After ExaBGP's own reload (Reactor.reload), revive the peers of re-added neighbors; a
    reload waits for the updates of Established peers only."""
    from exabgp.reactor.loop import Reactor
    from exabgp.bgp.fsm import FSM

    Reactor._pending_adjribout = lambda self: updates_in_flight(     # type: ignore[method-assign]
        self, FSM.ESTABLISHED)

    reload: Callable[..., Any] = Reactor.reload

    def _reload(self: Any) -> Any:
        done = reload(self)
        if done:
            revive_readded(self)
        return done

    Reactor.reload = _reload                    # type: ignore[method-assign]


def main() -> int:
    install()
    install_reload_rule()
    reactor_sleep.install()
    from exabgp.application.main import main as exabgp_main
    sys.argv[0] = "exabgp"
    return int(exabgp_main() or 0)


if __name__ == "__main__":
    raise SystemExit(main())
