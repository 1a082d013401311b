"""The edge's ExaBGP: an unrecognised well-known attribute ends the session as RFC 4271 6.3 says.

The live evidence (ExaBGP sending NOTIFICATION 3/2 on a session) is the replay's
`unrecognized-well-known` case (tests/integration/test_malformed_updates.py) and the recording
script tests/fixtures/record_exabgp5_rfc7606.py."""
from __future__ import annotations

import pytest
from exabgp.bgp.message.notification import Notify
from exabgp.bgp.message.update.attribute.attributes import Attributes
from exabgp.environment import getenv
from exabgp.logger import log

from emulator.edge import speaker, wire
from emulator.edge.rfc7606 import Peer, case

PEER = Peer(64500, "198.18.0.0", "2001:db8:ffff::")
UNKNOWN_WELL_KNOWN = wire.attribute(wire.WELL_KNOWN, wire.AttrType.RESERVED_FOR_DEVELOPMENT,
                                    b"maps-lab")


def test_only_a_well_known_attribute_of_an_unknown_type_is_caught():
    known = {1, 2, 3, 5}.__contains__
    assert speaker.unrecognized_well_known(UNKNOWN_WELL_KNOWN, known) == UNKNOWN_WELL_KNOWN
    optional = wire.attribute(wire.OPTIONAL_TRANSITIVE, 255, b"maps-lab")
    assert speaker.unrecognized_well_known(optional, known) is None        # Optional bit set
    assert speaker.unrecognized_well_known(wire.origin(), known) is None   # recognised
    long = wire.attribute(wire.WELL_KNOWN, 255, bytes(300))                 # extended length
    assert speaker.unrecognized_well_known(long, known) == long


def test_exabgp_keeps_it_without_the_rule_and_sends_3_2_with_it(monkeypatch):
    log.silence()                          # as `exabgp decode` does, before parsing
    log.init(getenv())
    monkeypatch.setattr(Attributes, "_parse_one", Attributes._parse_one)   # restored after
    left = Attributes()._parse_one(UNKNOWN_WELL_KNOWN + wire.origin(), None, None)
    assert left == wire.origin()           # ExaBGP 5.0.15 alone: kept as unknown transitive
    speaker.install()
    with pytest.raises(Notify) as sent:
        Attributes()._parse_one(UNKNOWN_WELL_KNOWN + wire.origin(), None, None)
    assert (sent.value.code, sent.value.subcode) == (3, 2)
    assert sent.value.data == UNKNOWN_WELL_KNOWN      # RFC 4271 6.3: type, length and value
    assert Attributes()._parse_one(wire.origin(), None, None) == b""


def test_the_replay_case_is_the_attribute_the_rule_catches():
    body = case("unrecognized-well-known").craft("198.19.30.0/24", PEER)
    assert UNKNOWN_WELL_KNOWN in body
    assert case("unrecognized-well-known").notification == (3, 2)


def _reactor_after_two_reloads():
    """ExaBGP's own Reactor and Peer: a neighbor removed by one reload (its peer still
    closing), then named again by the next."""
    from types import SimpleNamespace
    from exabgp.reactor.peer import Peer as ExaPeer

    class Reactor:
        def __init__(self, neighbors):
            self.configuration = SimpleNamespace(neighbors=neighbors)
            self._peers = {}

    neighbor = SimpleNamespace(name=lambda: "198.18.0.0")
    peer = object.__new__(ExaPeer)          # the state Peer.remove() leaves behind
    peer._teardown, peer._restart, peer._restarted, peer._neighbor = 3, False, False, None
    peer._delay = SimpleNamespace(reset=lambda: None)
    reactor = Reactor({"n1": neighbor})
    reactor._peers["n1"] = peer
    return reactor, peer, neighbor


def test_a_neighbor_added_back_while_its_removed_peer_closes_starts_again():
    reactor, peer, neighbor = _reactor_after_two_reloads()
    assert speaker.closing(peer)
    assert speaker.revive_readded(reactor) == ["n1"]
    # Peer.reestablish: restart with the new definition instead of closing for good.
    assert peer._restart is True and peer._neighbor is neighbor and not speaker.closing(peer)
    assert speaker.revive_readded(reactor) == []       # a running peer is left alone


def test_a_removed_neighbor_not_named_again_keeps_closing():
    reactor, peer, _ = _reactor_after_two_reloads()
    reactor.configuration.neighbors = {}
    assert speaker.revive_readded(reactor) == [] and speaker.closing(peer)


def test_a_reload_waits_for_updates_to_established_peers_only():
    from types import SimpleNamespace
    from exabgp.bgp.fsm import FSM

    def peer(state, pending):
        rib = SimpleNamespace(outgoing=SimpleNamespace(pending=lambda: pending))
        return SimpleNamespace(fsm=state, neighbor=SimpleNamespace(rib=rib))

    reactor = SimpleNamespace(_peers={"down": peer(FSM.IDLE, True),
                                      "up": peer(FSM.ESTABLISHED, False)})
    reactor.active_peers = lambda: set(reactor._peers)
    # A peer kept down by its neighbour (a tripped prefix limit) holds no reload back...
    assert not speaker.updates_in_flight(reactor, FSM.ESTABLISHED)
    # ...one Established with updates still to send does.
    reactor._peers["up"] = peer(FSM.ESTABLISHED, True)
    assert speaker.updates_in_flight(reactor, FSM.ESTABLISHED)
