"""The observers' parsers on what the programs printed in a recorded lab (tests/fixtures/lab/:
FRR 8.4.4 vtysh JSON, BIRD 2.0.12 birdc, Open vSwitch appctl, the edge agents' routes.json),
and on silence and garbage: typed state out, never an exception, never a verdict."""
from __future__ import annotations

from pathlib import Path

import pytest

from emulator.nodes import bird, frr
from emulator.nodes.base import Neighbor, RouterView
from emulator.observe import observers
from emulator.plan.resolve import recorded_plan
from emulator.runtime.lag import ovs
from tests.unit.recorded_lab import RECORDINGS, recorded_lab

STEADY, DOWN = RECORDINGS / "steady" / "commands", RECORDINGS / "lag-down" / "commands"


def said(folder: Path, node: str, key: str) -> str:
    return (folder / node / f"{key}.txt").read_text()


def test_frr_neighbors_of_a_working_router():
    view = frr.parse_neighbors("sea-pr1", said(STEADY, "sea-pr1", "vtysh-show-bgp-neighbors-json"))
    assert view.answered and view.software == "frr"
    ms = view.neighbor("198.18.0.1")
    assert (ms.state, ms.remote_asn, ms.max_prefix, ms.families) == \
        ("Established", 8075, 500, ("ipv4",))
    assert ms.accepted == 12
    assert view.neighbor("2001:db8:ffff::1").accepted == 4
    assert {n.address for n in view.neighbors} >= {"100.127.0.1", "100.127.0.3",
                                                   "fd00:100:127::1", "fd00:100:127::3"}
    assert all(n.established for n in view.neighbors)


def test_frr_neighbors_of_a_router_whose_link_is_down():
    view = frr.parse_neighbors("sea-pr1", said(DOWN, "sea-pr1", "vtysh-show-bgp-neighbors-json"))
    assert not view.neighbor("198.18.0.1").established
    assert not view.neighbor("2001:db8:ffff::1").established
    assert view.neighbor("100.127.0.3").established            # iBGP to sea-pr2 stays


def test_frr_summary_gives_what_each_neighbor_sent_before_policy():
    steady = frr.parse_summary_received(said(STEADY, "sea-pr1", "vtysh-show-bgp-summary-json"))
    down = frr.parse_summary_received(said(DOWN, "sea-pr1", "vtysh-show-bgp-summary-json"))
    assert (steady["198.18.0.1"], steady["2001:db8:ffff::1"]) == (12, 4)
    assert down.get("198.18.0.1", 0) == 0 and down.get("2001:db8:ffff::1", 0) == 0


@pytest.mark.parametrize("text", [None, "", "not json", '{"x": 1}', '{"1.2.3.4": []}'])
def test_frr_parsers_on_silence_and_garbage(text):
    view = frr.parse_neighbors("sea-pr1", text)
    assert view.neighbors == ()
    assert view.answered is (text is not None)        # None: vtysh did not answer in time
    assert frr.parse_summary_received(text) == {}


@pytest.mark.parametrize("parse", [lambda t: frr.parse_neighbors("sea-pr1", t).neighbors,
                                   frr.parse_summary_received], ids=["neighbors", "summary"])
def test_frr_parsers_on_json_that_is_not_an_object(parse):
    assert not parse("[]")


def test_bird_protocols_of_a_member():
    view = bird.parse_protocols("fabrikam", said(STEADY, "fabrikam", "birdc-show-protocols-all"))
    assert view.answered and len(view.neighbors) == 2
    for neighbor in view.neighbors:
        assert neighbor.state == "Established" and neighbor.remote_asn == 64511
        assert neighbor.received is not None and neighbor.received > 0
    assert {n.families for n in view.neighbors} == {("ipv4",), ("ipv6",)}


def test_bird_protocols_on_silence_and_garbage():
    assert bird.parse_protocols("rs", None) == RouterView("rs", "bird", (), answered=False)
    assert bird.parse_protocols("rs", "").neighbors == ()
    assert bird.parse_protocols("rs", "BIRD 2.0.12 ready.\nsomething else\n").neighbors == ()


def test_bird_routes_of_the_internet_are_the_microsoft_prefixes(tmp_path, monkeypatch):
    lab = recorded_lab("steady", tmp_path, monkeypatch)
    heard = observers.bird_prefixes(lab.node_dir("internet"), lab.host, "internet")
    assert heard == set(lab.plan.microsoft_prefixes)
    assert len(heard) == 16


def test_open_vswitch_members_collecting_and_distributing_or_disabled():
    up = ovs.parse_state("sea-pr1", "lag0", ["lag0m1", "lag0m2"],
                         said(STEADY, "sea-pr1", "ovs-appctl-bond-show-lag0b"),
                         said(STEADY, "sea-pr1", "ovs-appctl-lacp-show-lag0b"), 1.0)
    down = ovs.parse_state("sea-pr1", "lag0", ["lag0m1", "lag0m2"],
                           said(DOWN, "sea-pr1", "ovs-appctl-bond-show-lag0b"),
                           said(DOWN, "sea-pr1", "ovs-appctl-lacp-show-lag0b"), 1.0)
    assert (up.up, up.members_up) == (True, 2)
    assert (down.up, down.members_up) == (False, 0)
    assert ovs.parse_state("sea-pr1", "lag0", ["lag0m1"], "", "", 1.0).up is False


def test_node_sessions_name_a_router_that_does_not_answer_or_knows_no_neighbor(tmp_path,
                                                                              monkeypatch):
    lab = recorded_lab("steady", tmp_path, monkeypatch)
    plan = lab.plan
    silent = RouterView("sea-pr1", "frr", (), answered=False)
    states = observers.node_sessions(plan, "sea-pr1", lab.node_dir("sea-pr1"), lab.host, silent)
    assert states and all(not s.established for s in states)
    assert all(s.prefixes_received == 0 for s in states)
    one = RouterView("sea-pr1", "frr", (Neighbor("198.18.0.1", "Active", 8075),))
    states = {s.peer_address: s.state for s in observers.node_sessions(
        plan, "sea-pr1", lab.node_dir("sea-pr1"), lab.host, one)}
    assert states["198.18.0.1"] == "Active"
    assert states["2001:db8:ffff::1"] == "Idle"         # the program knows no such neighbor


def test_edge_routes_read_the_agents_file_and_survive_a_broken_one(tmp_path, monkeypatch):
    lab = recorded_lab("steady", tmp_path, monkeypatch)
    edges = observers.edge_routes(lab.plan, lab.node_dir, lab.host)
    first = edges[0]
    assert (first.node, first.lag) == ("sea-ms1", "sea-1-a")
    routes = {r.prefix: r for r in first.routes()}
    assert routes["192.0.2.0/24"].as_path == (64500,)
    assert routes["192.0.2.0/24"].rule.startswith("MS-")
    broken = RECORDINGS / "steady" / "commands" / "sea-ms1" / "file-lag0-routes.json.txt"
    host = lab.host
    monkeypatch.setattr(host, "read_text", lambda node, path:
                        "{not json" if node == "sea-ms1" else broken.read_text())
    again = observers.edge_routes(lab.plan, lab.node_dir, host)
    assert again[0].peers == {} and again[0].prefixes() == set()
    assert again[1].prefixes() == first.prefixes()


def test_the_recorded_plan_is_the_lab_that_was_recorded(tmp_path, monkeypatch):
    lab = recorded_lab("steady", tmp_path, monkeypatch)
    assert recorded_plan(lab.dir).lab == "h7rec"
    assert [lag.name for lag in lab.plan.lags] == ["sea-1-a", "sea-1-b"]


def test_each_node_keeps_plan_order_and_raises_what_a_read_raised():
    import threading
    from emulator.observe.observers import each_node
    seen: set[str] = set()

    def read(name: str) -> str:
        seen.add(threading.current_thread().name)
        return name.upper()
    names = [f"n{i}" for i in range(20)]
    assert each_node(names, read) == [n.upper() for n in names]
    assert each_node([], read) == []

    def broken(name: str) -> str:
        raise ValueError(name)
    with pytest.raises(ValueError):
        each_node(names, broken)
