"""The timeline of a recorded lab (tests/fixtures/lab/after-failover: up, a lag-down fault and
its recovery, then a lag-down failover under traffic) read back: the LAG's spans, the session
drops during each fault and the sessions' re-establishment, all with the LAG up."""
from __future__ import annotations

import pytest

from emulator.core.events import EventKind
from emulator.core.labdir import LabDir
from emulator.judge import checks
from emulator.observe.timeline import Timeline
from tests.unit.recorded_lab import LAB, recorded_lab


@pytest.fixture
def timeline(tmp_path, monkeypatch) -> Timeline:
    recorded_lab("after-failover", tmp_path, monkeypatch)
    return Timeline.read(LabDir(LAB, tmp_path))


def faults(timeline: Timeline) -> list[tuple[float, float]]:
    starts, ends = timeline.of(EventKind.FAULT), timeline.of(EventKind.RECOVER)
    assert len(starts) == len(ends) == 2
    return [(f.time, r.time) for f, r in zip(starts, ends)]


def test_the_lag_is_down_during_each_fault_and_up_around_them(timeline):
    spans = timeline.lag_spans("sea-1-a", timeline.events[-1].time)
    down = [(start, end) for start, end, up in spans if not up]
    assert len(down) == 2
    for (fault, recover), (start, end) in zip(faults(timeline), down):
        assert fault <= start < end <= recover + 1.0
        assert timeline.lag_up_at("sea-1-a", (start + end) / 2) is False
    assert spans[0][2] is True and spans[-1][2] is True
    # the other link was never touched
    assert [up for _, _, up in timeline.lag_spans("sea-1-b", timeline.events[-1].time)] == [True]


def test_the_faulted_links_sessions_dropped_and_no_other(timeline):
    (fault, recover), _ = faults(timeline)
    drops = [e for e in timeline.session_drops(fault) if e.time <= recover]
    assert drops and {e.get("lag") for e in drops} == {"sea-1-a"}
    assert timeline.session_drops(timeline.events[-1].time + 1) == []


def test_every_reestablishment_came_with_the_lag_up(timeline, tmp_path, monkeypatch):
    ups = timeline.sessions_established("sea-1-a")
    assert len(ups) == 6                   # both families: at the turn-up and after each fault
    assert all(timeline.lag_up_at("sea-1-a", e.time) for e in ups)
    lab = recorded_lab("after-failover", tmp_path / "again", monkeypatch)
    verdict = checks.lag_before_bgp(lab)
    assert verdict.passed and verdict.summary.endswith("with the LAG up, 0 without")


def test_nothing_is_known_of_a_lag_before_its_first_event(timeline):
    assert timeline.lag_up_at("sea-1-a", timeline.start - 1) is None
    assert timeline.first_lag_up("no-such-lag") is None
