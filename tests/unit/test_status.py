"""`mapslab status` on recorded labs (tests/fixtures/lab/): what a user sees, read by the same
observers from the routers' and Open vSwitch's recorded answers, without root."""
from __future__ import annotations

import json

import pytest

from emulator.observe import status
from tests.unit.recorded_lab import recorded_lab


@pytest.fixture
def steady(tmp_path, monkeypatch):
    return status.status(recorded_lab("steady", tmp_path / "steady", monkeypatch))


@pytest.fixture
def lag_down(tmp_path, monkeypatch):
    return status.status(recorded_lab("lag-down", tmp_path / "lag-down", monkeypatch))


def interconnect(found: status.Status) -> dict[tuple[str, str], tuple[str, int]]:
    return {(s.node, s.session): (s.state, s.prefixes_received)
            for s in found.sessions if s.interconnect}


def test_a_working_lab_shows_every_lag_up_and_every_session_established(steady):
    assert (steady.lab, steady.lag_driver) == ("h7rec", "openvswitch")
    assert [(o.lag, o.peer_side.up, o.edge_side.up, o.peer_side.members_up,
             o.edge_side.members_up) for o in steady.lags] == [
        ("sea-1-a", True, True, 2, 2), ("sea-1-b", True, True, 2, 2)]
    assert interconnect(steady) == {("sea-pr1", "sea-1-a-v4"): ("Established", 12),
                                    ("sea-pr1", "sea-1-a-v6"): ("Established", 4),
                                    ("sea-pr2", "sea-1-b-v4"): ("Established", 12),
                                    ("sea-pr2", "sea-1-b-v6"): ("Established", 4)}
    assert all(s.established for s in steady.sessions), \
        [(s.node, s.session, s.state) for s in steady.sessions if not s.established]
    assert steady.microsoft_prefixes == {"sea-pr1": {"ipv4": 12, "ipv6": 4},
                                         "sea-pr2": {"ipv4": 12, "ipv6": 4}}
    assert [(e.node, e.lag, len(e.prefixes())) for e in steady.edges] == [
        ("sea-ms1", "sea-1-a", 6), ("sea-ms2", "sea-1-b", 6)]


def test_a_link_down_shows_its_members_and_sessions_down(lag_down):
    first, second = lag_down.lags
    assert (first.lag, first.peer_side.up, first.peer_side.members_up) == ("sea-1-a", False, 0)
    assert (second.peer_side.up, second.edge_side.up) == (True, True)
    found = interconnect(lag_down)
    assert found[("sea-pr1", "sea-1-a-v4")][0] != "Established"
    assert found[("sea-pr1", "sea-1-a-v6")][0] != "Established"
    assert found[("sea-pr2", "sea-1-b-v4")] == ("Established", 12)
    # the prefixes are still held by sea-pr1, through sea-pr2 (iBGP)
    assert lag_down.microsoft_prefixes["sea-pr1"] == {"ipv4": 12, "ipv6": 4}
    held = {e.lag: len(e.prefixes()) for e in lag_down.edges}
    assert held == {"sea-1-a": 0, "sea-1-b": 6}


def test_the_table_says_up_and_down_per_lag_and_each_sessions_state(steady, lag_down):
    text = status.status_table(lag_down)
    assert text.splitlines()[0] == "lab h7rec  (LAGs: openvswitch)"
    row = next(line for line in text.splitlines() if line.strip().startswith("sea-1-a "))
    assert "sea-pr1 lag0 DOWN" in row and "0/2 (lag0m1 down, lag0m2 down)" in row
    assert "sea-pr1    ipv4 12  ipv6 4" in text
    assert "sea-ms1    sea-1-a      0 prefixes: none" in text
    good = status.status_table(steady)
    assert "sea-pr1 lag0 UP" in good and "2/2 (lag0m1 up, lag0m2 up)" in good
    assert " DOWN" not in good


def test_the_json_is_plain_data_with_the_same_figures(lag_down):
    found = json.loads(json.dumps(status.status_json(lag_down)))
    assert found["lab"] == "h7rec" and found["lag_driver"] == "openvswitch"
    assert [(lag["lag"], lag["peer_side"]["up"]) for lag in found["lags"]] == [
        ("sea-1-a", False), ("sea-1-b", True)]
    assert {(s["node"], s["session"]) for s in found["sessions"] if s["interconnect"]
            and s["state"] == "Established"} == {("sea-pr2", "sea-1-b-v4"),
                                                  ("sea-pr2", "sea-1-b-v6")}
    assert found["microsoft_prefixes"]["sea-pr2"] == {"ipv4": 12, "ipv6": 4}


def test_a_held_turn_up_is_said_first_and_in_the_json(tmp_path, monkeypatch):
    from emulator.core import hold
    lab = recorded_lab("steady", tmp_path / "held", monkeypatch)
    assert status.status(lab).held_at is None
    hold.write(lab.dir.path, hold.Hold("manual", hold.Step.LAG_UP.value, 1.0))
    found = status.status(lab)
    assert found.held_at == "lag-up"
    assert status.status_table(found).splitlines()[1] == (
        "turn-up held at lag-up (`mapslab continue h7rec` takes the next step)")
    assert json.loads(json.dumps(status.status_json(found)))["held_at"] == "lag-up"
