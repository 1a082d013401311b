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
                                   "LAG up (LAG up at +2.000 s)")


def test_lag_before_bgp_fails_a_session_that_came_before_its_lag(plan, labdir):
    happen(labdir, 0, "lab-created", lab="unit")
    session(labdir, 1, "up")
    monitor(labdir, 2, up=True)
    verdict = checks.lag_before_bgp(fake_lab(plan, labdir))
    assert not verdict.passed
    assert verdict.evidence == (
        "sea-1-a: session 198.18.0.0 Established at +1.000 s with the LAG never seen up",
        "sea-1-b: no session of this link reached Established; the LAG never came up")


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
