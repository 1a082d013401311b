"""The timeline read back: when a LAG was up, when its sessions were, and the checks on it."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from emulator.core.labdir import LabDir
from emulator.judge import checks, report
from emulator.observe.timeline import Timeline
from emulator.plan.resolve import resolve
from emulator.topology.loader import load
from tests.conftest import ROOT

T0 = 1_700_000_000.0
A = "sea-1-a"


@pytest.fixture(scope="module")
def plan():
    return resolve(load(ROOT / "topologies" / "seattle.yaml"))


@pytest.fixture
def labdir(tmp_path) -> LabDir:
    return LabDir("unit", root=tmp_path)


def happen(labdir: LabDir, at: float, kind: str, **fields: object) -> None:
    labdir.path.mkdir(parents=True, exist_ok=True)
    with open(labdir.events_file, "a") as out:
        out.write(json.dumps({"time": T0 + at, "kind": kind, **fields}) + "\n")


def monitor(labdir: LabDir, at: float, up: bool, side: str = "edge", lag: str = A) -> None:
    happen(labdir, at, "lag-state", lag=lag, side=side, node="sea-ms1", up=up, members_up=2 * up)


def session(labdir: LabDir, at: float, state: str, peer: str = "198.18.0.0", lag: str = A) -> None:
    happen(labdir, at, "bgp-state", node="sea-ms1", lag=lag, peer=peer, state=state)


def test_a_line_still_being_appended_is_not_read_until_it_is_whole(labdir):
    """Seen in CI: an edge agent's one write(2) crossed a page boundary and `up` read the
    events file in between, half a line without its newline."""
    monitor(labdir, 1.0, True)
    whole = json.dumps({"time": T0 + 2.0, "kind": "policy-reloaded", "node": "sea-ms1"}) + "\n"
    with open(labdir.events_file, "a") as out:
        out.write(whole[:64])                         # where the reader in CI found it cut
    assert [e["kind"] for e in labdir.events()] == ["lag-state"]
    assert [e.kind for e in Timeline.read(labdir).events] == ["lag-state"]
    with open(labdir.events_file, "a") as out:
        out.write(whole[64:])
    assert [e["kind"] for e in labdir.events()] == ["lag-state", "policy-reloaded"]


def test_nothing_known_before_the_first_sighting(labdir):
    happen(labdir, 0, "lab-created", lab="unit")
    monitor(labdir, 1, up=True, side="peer")          # the peer side does not count
    timeline = Timeline.read(labdir)
    assert timeline.lag_up_at(A, T0 + 5) is None
    assert timeline.first_lag_up(A) is None
    assert timeline.lag_spans(A, T0 + 9) == []


def test_the_edge_automation_sees_the_lag_before_the_monitor(labdir):
    happen(labdir, 0, "lab-created", lab="unit")
    happen(labdir, 2, "lag-up", node="sea-ms1", lag=A, members_up=2)
    monitor(labdir, 3, up=True)
    monitor(labdir, 10, up=False)
    monitor(labdir, 14, up=True)
    timeline = Timeline.read(labdir)
    assert timeline.first_lag_up(A) == T0 + 2
    assert timeline.first_lag_up("sea-1-b") is None
    assert [timeline.lag_up_at(A, T0 + t) for t in (1, 2, 9, 10, 13, 20)] == [
        None, True, True, False, False, True]
    assert timeline.lag_spans(A, T0 + 20) == [
        (T0 + 2, T0 + 10, True), (T0 + 10, T0 + 14, False), (T0 + 14, T0 + 20, True)]


def test_events_are_read_in_time_order_whoever_wrote_them_first(labdir):
    monitor(labdir, 3, up=True)
    happen(labdir, 1, "lab-created", lab="unit")
    timeline = Timeline.read(labdir)
    assert [e.kind for e in timeline.events] == ["lab-created", "lag-state"]
    assert timeline.start == T0 + 1


def test_sessions_established_drops_and_spans(labdir):
    session(labdir, 1, "up")
    session(labdir, 1.5, "up", peer="2001:db8:ffff::")
    session(labdir, 5, "down")
    session(labdir, 6, "connected")
    session(labdir, 8, "up")
    session(labdir, 9, "down", lag="sea-1-b", peer="198.18.0.2")
    timeline = Timeline.read(labdir)
    assert [e.time - T0 for e in timeline.sessions_established(A)] == [1, 1.5, 8]
    assert [e.get("peer") for e in timeline.session_drops(T0 + 5)] == ["198.18.0.0", "198.18.0.2"]
    assert timeline.session_drops(T0 + 9.5) == []
    assert timeline.session_spans(A, "198.18.0.0", T0 + 10) == [
        (T0 + 1, T0 + 5, True), (T0 + 5, T0 + 8, False), (T0 + 8, T0 + 10, True)]


def fake_lab(plan, labdir):
    return SimpleNamespace(plan=plan, dir=labdir)


def test_lag_before_bgp_passes_when_every_session_came_after_its_lag(plan, labdir):
    happen(labdir, 0, "lab-created", lab="unit")
    for i, lag in enumerate(plan.lags):
        happen(labdir, 2 + i, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
    for i, s in enumerate(s for s in plan.sessions if s.interconnect):
        session(labdir, 5 + i, "up", peer=s.a_address, lag=s.lag)
    verdict = checks.lag_before_bgp(fake_lab(plan, labdir))
    assert verdict.passed, verdict
    assert verdict.summary == "4 session start(s) with the LAG up, 0 without"
    assert verdict.evidence[0] == ("sea-1-a: session 198.18.0.0 Established at +5.000 s with the "
                                   "LAG up (since +2.000 s, edge automation)")


def test_lag_before_bgp_fails_a_session_that_came_before_its_lag(plan, labdir):
    happen(labdir, 0, "lab-created", lab="unit")
    session(labdir, 1, "up")
    monitor(labdir, 2, up=True)
    verdict = checks.lag_before_bgp(fake_lab(plan, labdir))
    assert not verdict.passed
    assert verdict.evidence == (
        "sea-1-a: session 198.18.0.0 Established at +1.000 s with the LAG never seen up",
        "sea-1-b: no session of this link reached Established; the LAG never came up")


def turned_up(plan, labdir) -> None:
    """Both links turned up as `up` does: lag-up, BGP configured, both sessions Established."""
    happen(labdir, 0, "lab-created", lab="unit")
    for i, lag in enumerate(plan.lags):
        happen(labdir, 2 + i, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
        monitor(labdir, 2.2 + i, up=True, lag=lag.name)
    for i, s in enumerate(s for s in plan.sessions if s.interconnect):
        session(labdir, 5 + i, "up", peer=s.a_address, lag=s.lag)


def lag_down_and_back(labdir, at: float) -> None:
    """`fail lag-down sea-1-a`: the monitor sees the LAG go, the hold timer drops BGP."""
    happen(labdir, at, "fault", scenario="lag-down", target=A, member=1)
    monitor(labdir, at + 0.236, up=False)
    session(labdir, at + 10.141, "down")
    session(labdir, at + 10.167, "down", peer="2001:db8:ffff::")


def test_lag_before_bgp_after_lag_down_and_recover_the_old_way_false_alarms(plan, labdir):
    """The issue's figures: recovery only brought the members up; ExaBGP, still configured,
    re-established BGP at +117.126 s and the monitor's poll saw the LAG up at +117.235 s. The
    LAG was up first (no traffic crosses a LAG that is down), but nothing recorded it."""
    turned_up(plan, labdir)
    lag_down_and_back(labdir, 100)
    happen(labdir, 115, "recover", scenario="lag-down", target=A, member=1)
    session(labdir, 117.126, "up")
    session(labdir, 117.127, "up", peer="2001:db8:ffff::")
    monitor(labdir, 117.235, up=True)
    verdict = checks.lag_before_bgp(fake_lab(plan, labdir))
    assert not verdict.passed
    assert verdict.evidence[0] == ("sea-1-a: session 198.18.0.0 Established at +117.126 s with "
                                   "the LAG down (since +100.236 s, monitor)")


def test_lag_before_bgp_after_lag_down_and_recover_through_the_automation_passes(plan, labdir):
    """The same fault recovered as the lag-down scenario now does (times as recorded from a
    lab): the link's speaker stopped before the members came up, the edge automation saw the
    LAG up, recorded lag-up and configured BGP; the monitor's late poll no longer decides."""
    turned_up(plan, labdir)
    lag_down_and_back(labdir, 100)
    for peer in ("198.18.0.0", "2001:db8:ffff::"):
        happen(labdir, 115.966, "bgp-state", node="sea-ms1", lag=A, peer=peer, state="down",
               reason="speaker stopped")
    happen(labdir, 116.05, "lag-up", node="sea-ms1", lag=A, members_up=1)
    happen(labdir, 116.08, "bgp-configured", node="sea-ms1", lag=A, waited_for_lacp=True)
    happen(labdir, 116.08, "recover", scenario="lag-down", target=A, member=1)
    session(labdir, 116.081, "up")
    session(labdir, 116.082, "up", peer="2001:db8:ffff::")
    monitor(labdir, 116.136, up=True)             # the poll, later than BGP: it does not matter
    verdict = checks.lag_before_bgp(fake_lab(plan, labdir))
    assert verdict.passed, verdict
    assert verdict.summary == "6 session start(s) with the LAG up, 0 without"
    assert ("sea-1-a: session 198.18.0.0 Established at +116.081 s with the LAG up (since "
            "+116.050 s, edge automation)") in verdict.evidence


def test_lag_before_bgp_still_fails_bgp_that_came_before_its_lag(plan, labdir):
    """A real BGP-before-LAG: static bundles and an edge that does not wait (the broken lab of
    tests/integration/test_broken_labs.py), then a session back while the LAG is known down."""
    happen(labdir, 0, "lab-created", lab="unit")
    happen(labdir, 1, "bgp-configured", node="sea-ms1", lag=A, waited_for_lacp=False)
    session(labdir, 1.5, "up")
    turned_up_b = plan.lags[1]
    happen(labdir, 2, "lag-up", node=turned_up_b.b_node, lag=turned_up_b.name, members_up=2)
    monitor(labdir, 3, up=False, lag=turned_up_b.name)
    session(labdir, 9, "up", peer="198.18.0.2", lag=turned_up_b.name)
    verdict = checks.lag_before_bgp(fake_lab(plan, labdir))
    assert not verdict.passed
    assert verdict.evidence == (
        "sea-1-a: session 198.18.0.0 Established at +1.500 s with the LAG never seen up",
        "sea-1-b: session 198.18.0.2 Established at +9.000 s with the LAG down (since +3.000 s, "
        "monitor)")


def test_report_rows_draw_the_lag_and_each_session(plan, labdir):
    happen(labdir, 0, "lab-created", lab="unit")
    happen(labdir, 2, "lag-up", node="sea-ms1", lag=A, members_up=2)
    monitor(labdir, 3, up=True)
    session(labdir, 4, "up")
    monitor(labdir, 6, up=False)
    session(labdir, 7, "down")
    timeline = Timeline.read(labdir)
    rows = {r.label: r.spans for r in report.rows(fake_lab(plan, labdir), timeline, T0 + 10)}
    assert rows["LAG sea-1-a"] == ((2, 6, True), (6, 10, False))
    assert rows["BGP sea-1-a-v4"] == ((4, 7, True), (7, 10, False))
    assert rows["BGP sea-1-a-v6"] == () and rows["LAG sea-1-b"] == ()


def test_report_rows_show_a_member_leaving_a_bundle_that_stays_up(plan, labdir):
    """issue 13: a silent member leaving is visible, though the LAG row stays green."""
    happen(labdir, 0, "lab-created", lab="unit")
    happen(labdir, 2, "lag-up", node="sea-ms1", lag=A, members_up=2)
    monitor(labdir, 3, up=True)                              # members_up 2
    happen(labdir, 6, "lag-state", lag=A, side="edge", node="sea-ms1", up=True, members_up=1)
    happen(labdir, 9, "lag-state", lag=A, side="edge", node="sea-ms1", up=True, members_up=2)
    timeline = Timeline.read(labdir)
    found = {r.label: r for r in report.rows(fake_lab(plan, labdir), timeline, T0 + 12)}
    assert found["LAG sea-1-a"].spans == ((2, 12, True),)
    members = found["  members of sea-1-a"]
    assert members.members == ((2, 6, 2), (6, 9, 1), (9, 12, 2)) and members.size == 2


def test_report_rows_draw_a_stopped_edge_down(plan, labdir):
    """edge-down: the speaker cannot record its sessions' end; the scenario does, and the row
    turns red from that moment, not green until the edge comes back."""
    happen(labdir, 0, "lab-created", lab="unit")
    session(labdir, 4, "up")
    happen(labdir, 10, "fault", scenario="edge-down", target="sea-ms1", member=1)
    happen(labdir, 10.5, "bgp-state", node="sea-ms1", lag=A, peer="198.18.0.0", state="down",
           reason="speaker stopped")
    session(labdir, 30, "up")
    timeline = Timeline.read(labdir)
    found = {r.label: r.spans for r in report.rows(fake_lab(plan, labdir), timeline, T0 + 40)}
    assert found["BGP sea-1-a-v4"] == ((4, 10.5, True), (10.5, 30, False), (30, 40, True))
