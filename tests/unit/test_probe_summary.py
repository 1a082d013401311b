"""The traffic probe's figures from its sends and echoes (emulator.judge.probe.summarize), the
probe itself on the loopback (no root, no lab), and the flow it is aimed along."""
from __future__ import annotations

import socket
import threading

import pytest

from emulator.core import wait
from emulator.core.errors import PlanError
from emulator.judge import probe, traffic
from emulator.plan.model import Role
from emulator.plan.resolve import resolve
from emulator.topology.loader import load
from tests.conftest import ROOT

INTERVAL = 0.01                      # 100 packets a second
SENT = [1000.0 + i * INTERVAL for i in range(10)]


def echoes(seqs, responder="sea-ms1"):
    return [(s, responder) for s in seqs]


def test_every_packet_echoed_is_no_loss_and_no_gap():
    result = probe.summarize(SENT, echoes(range(10)), INTERVAL)
    assert (result.sent, result.received, result.lost) == (10, 10, 0)
    assert (result.longest_gap_ms, result.reordered, result.duplicates) == (0.0, 0, 0)
    assert result.responders == {"sea-ms1": 10}
    assert (result.lost_sequences, result.first_lost_at, result.last_lost_at) == ((), None, None)
    assert result.interval_ms == pytest.approx(10.0)


def test_an_outage_is_the_time_between_the_first_lost_send_and_the_next_echoed_one():
    result = probe.summarize(SENT, echoes([0, 1, 2, 6, 7, 8, 9]), INTERVAL)
    assert result.lost == 3 and result.lost_sequences == (3, 4, 5)
    assert result.longest_gap_ms == pytest.approx(30.0)         # sends 3, 4, 5: until send 6
    assert (result.first_lost_at, result.last_lost_at) == (SENT[3], SENT[5])


def test_the_longest_of_several_outages_counts():
    result = probe.summarize(SENT, echoes([0, 2, 3, 7, 8, 9]), INTERVAL)
    assert result.lost_sequences == (1, 4, 5, 6)
    assert result.longest_gap_ms == pytest.approx(30.0)


def test_loss_at_the_end_runs_to_one_interval_after_the_last_send():
    result = probe.summarize(SENT, echoes(range(7)), INTERVAL)
    assert result.lost_sequences == (7, 8, 9)
    assert result.longest_gap_ms == pytest.approx(30.0)


def test_nothing_echoed_is_everything_lost_for_the_whole_run():
    result = probe.summarize(SENT, [], INTERVAL)
    assert (result.received, result.lost, result.responders) == (0, 10, {})
    assert result.longest_gap_ms == pytest.approx(100.0)


def test_duplicates_count_once_and_late_echoes_are_reordered():
    result = probe.summarize(SENT, echoes([0, 1, 3, 2, 2, 4, 5, 6, 7, 9, 8]), INTERVAL)
    assert (result.received, result.lost, result.duplicates, result.reordered) == (10, 0, 1, 2)
    assert result.responders == {"sea-ms1": 10}


def test_traffic_that_moved_is_counted_per_responder():
    result = probe.summarize(SENT, echoes(range(4)) + echoes(range(6, 10), "sea-ms2"), INTERVAL)
    assert result.responders == {"sea-ms1": 4, "sea-ms2": 4}
    assert result.lost_sequences == (4, 5)


def test_a_probe_longer_than_its_bound_is_refused():
    with pytest.raises(ValueError, match="exceed"):
        probe.send("127.0.0.1", "127.0.0.1", probe.MAX_COUNT, rate=1.0)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_probe_on_the_loopback_is_echoed_by_the_reflector(tmp_path):
    """Sender and reflector as the lab runs them, on 127.0.0.1: every packet echoed, named."""
    port = _free_udp_port()
    ready = tmp_path / "ready"
    # The reflector ends by its own bound (seconds): a daemon thread, not waited for.
    threading.Thread(target=probe.reflect, daemon=True,
                     args=("127.0.0.1", "sea-ms1", 30.0, str(ready), port)).start()
    wait.until("daemon_socket", ready.exists, lambda ok: "" if ok else "reflector not ready")
    result = probe.send("127.0.0.1", "127.0.0.1", count=20, rate=200.0, port=port)
    assert (result.sent, result.received, result.duplicates) == (20, 20, 0)
    assert result.responders == {"sea-ms1": 20}


def test_a_probe_with_no_reflector_loses_everything(tmp_path):
    result = probe.send("127.0.0.1", "127.0.0.1", count=5, rate=100.0, port=_free_udp_port())
    assert (result.sent, result.received, result.lost_sequences) == (5, 0, (0, 1, 2, 3, 4))


@pytest.fixture(scope="module")
def seattle():
    return resolve(load(ROOT / "topologies" / "seattle.yaml"))


def test_the_flow_runs_from_a_member_endpoint_to_microsofts_service_address(seattle):
    v4, v6 = traffic.default_flow(seattle), traffic.default_flow(seattle, "ipv6")
    member_endpoints = {n.name: [e.split("/")[0] for e in n.endpoints]
                        for n in seattle.nodes_with(Role.MEMBER)}
    services = [e.split("/")[0] for e in seattle.microsoft_endpoints]
    for flow, family_v6 in ((v4, False), (v6, True)):
        assert flow.source in member_endpoints[flow.source_node]
        assert flow.destination in services
        assert (":" in flow.source, ":" in flow.destination) == (family_v6, family_v6)


def test_a_member_without_an_endpoint_gives_no_flow(seattle):
    with pytest.raises(PlanError, match="ipv4"):
        traffic.default_flow(seattle, member="no-such-member")
