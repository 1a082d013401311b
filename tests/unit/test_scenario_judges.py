"""Each fault scenario's judge on recorded failovers, without root.

tests/fixtures/failovers/ holds ScenarioResults recorded from real labs (README.md there): a
good run of each scenario, and a run in which the fault did nothing (same harness, same aim,
the scenario's inject and recover replaced by no-ops). A do-nothing run must fail every
scenario's judge; a good run must pass.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from emulator.judge import harness
from emulator.judge.probe import ProbeResult
from emulator.judge.scenarios.base import LagSample, ScenarioResult

FAILOVERS = Path(__file__).resolve().parents[1] / "fixtures" / "failovers"
JUDGED = ("member-down", "lacp-mismatch", "member-silent", "lag-down", "peer-router-down",
          "edge-down", "location-down")


def probe(data: dict) -> ProbeResult:
    return ProbeResult(**{**data, "lost_sequences": tuple(data["lost_sequences"])})


def recorded(name: str) -> ScenarioResult:
    """A ScenarioResult as the harness returned it (dataclasses.asdict, JSON)."""
    data = json.loads((FAILOVERS / f"{name}.json").read_text())
    return ScenarioResult(**{
        **data, "traffic": probe(data["traffic"]), "after_recovery": probe(data["after_recovery"]),
        "fault_problems": tuple(data["fault_problems"]),
        "lag_samples": tuple(LagSample(**s) for s in data["lag_samples"])})


def problems(result: ScenarioResult) -> list[str]:
    verdict = harness.judge(result)
    assert verdict.passed == (not [e for e in verdict.evidence
                                   if not e.startswith(("responders", "recovered"))])
    return [e for e in verdict.evidence if not e.startswith(("responders", "recovered"))]


@pytest.mark.parametrize("scenario", JUDGED)
def test_a_recorded_good_run_passes(scenario):
    result = recorded(f"{scenario}-good")
    assert result.scenario == scenario and result.on_path
    assert problems(result) == []


# What each judge says of a run in which the fault did nothing.
NOTHING = {
    "member-down": ["the bundle never lost the member"],
    "lacp-mismatch": ["the member was never seen out of the bundle"],
    "member-silent": ["the member was never seen out of the bundle"],
    "lag-down": ["the traffic never moved: only"],
    "peer-router-down": ["the traffic never moved: only"],
    "edge-down": ["the traffic never moved: only"],
    "location-down": ["the traffic never moved: only"],
}


@pytest.mark.parametrize("scenario", JUDGED)
def test_a_recorded_run_where_the_fault_did_nothing_fails(scenario):
    result = recorded(f"{scenario}-nothing")
    assert result.traffic.lost == 0 and result.on_path          # nothing happened, on the path
    found = problems(result)
    assert found, result
    for start in NOTHING[scenario]:
        assert any(p.startswith(start) for p in found), found


def test_a_member_fault_fails_when_the_lag_went_down_in_one_look():
    good = recorded("member-down-good")
    during = [i for i, s in enumerate(good.lag_samples) if s.at > good.injected_at + 1]
    flapped = list(good.lag_samples)
    flapped[during[0]] = replace(flapped[during[0]], members_up=0, member_up=False)
    found = problems(replace(good, lag_samples=tuple(flapped)))
    assert len(found) == 1 and found[0].startswith("the LAG went down (")


def test_a_member_fault_fails_when_the_lag_was_never_looked_at():
    assert problems(replace(recorded("member-silent-good"), lag_samples=())) == [
        "the LAG was not observed while the fault held"]


def test_member_down_bounds_the_traffic_lost():
    good = recorded("member-down-good")
    half = good.traffic.sent // 2
    lossy = replace(good.traffic, received=good.traffic.sent - half, longest_gap_ms=half * 10.0)
    assert problems(replace(good, traffic=lossy)) == [
        f"traffic stalled {half * 10:.0f} ms, expected at most 1000 ms",
        f"{half} of {good.traffic.sent} packets lost, expected at most 100 (1.0 s of traffic)"]


def test_lacp_mismatch_fails_when_the_member_aggregates_again():
    good = recorded("lacp-mismatch-good")
    late = [i for i, s in enumerate(good.lag_samples)
            if s.at > good.injected_at + good.member_removed_after + 1]
    back = list(good.lag_samples)
    back[late[0]] = replace(back[late[0]], member_up=True)
    found = problems(replace(good, lag_samples=tuple(back)))
    assert len(found) == 1 and found[0].startswith("the member aggregated again "), found


def test_a_silent_member_must_leave_within_the_lacp_timeout():
    good = recorded("member-silent-good")
    assert problems(replace(good, member_removed_after=4.5, session_drops=1)) == [
        "member removed after 4.5 s, expected within the LACP fast timeout (3 s, +1 s of "
        "polling)", "1 BGP session drop(s), expected 0"]


@pytest.mark.parametrize("scenario", ["lag-down", "peer-router-down", "edge-down"])
def test_an_outage_must_move_the_traffic_within_the_hold_time(scenario):
    good = recorded(f"{scenario}-good")
    slow = replace(good.traffic, longest_gap_ms=14000.0)
    assert problems(replace(good, traffic=slow)) == [
        "traffic took 14000 ms to move, more than the hold time 10 s + 1.5 s to propagate"]
    dead = replace(good.traffic, received=0, responders={})
    assert "no traffic at all got through" in problems(replace(good, traffic=dead))


def test_a_fault_off_the_traffic_path_says_so():
    """edge-down on the edge that carried nothing: 0 loss, and the judge says why it proves
    nothing (recorded with the target given, not aimed)."""
    result = recorded("edge-down-offpath")
    assert result.on_path is False and result.traffic.lost == 0
    found = problems(result)
    assert found[0] == (f"the fault was off the traffic path: {result.carrying} answered the "
                        f"probe when {result.target} was faulted, and that path does not go "
                        f"through {result.target}")


def test_without_an_echo_before_the_fault_the_path_is_unknown():
    good = recorded("edge-down-good")
    assert problems(replace(good, carrying="", on_path=None))[0] == (
        "no probe echo before the fault: the path carrying the traffic is unknown")


def test_session_drops_are_counted_from_the_side_that_survived(tmp_path, monkeypatch):
    """edge-down: the killed edge's agent records nothing; the peer routers saw both sessions
    of its link go, and a drop the surviving agent recorded counts once."""
    from types import SimpleNamespace

    from emulator.core.labdir import LabDir
    from emulator.observe.observers import SessionState
    from emulator.plan.resolve import resolve
    from emulator.topology.loader import load
    from tests.conftest import ROOT
    plan = resolve(load(ROOT / "topologies" / "seattle.yaml"))
    labdir = LabDir("unit", root=tmp_path)
    labdir.path.mkdir(parents=True)
    lab = SimpleNamespace(plan=plan, dir=labdir, node_dir=labdir.node, host=None)
    interconnect = [s for s in plan.sessions if s.interconnect]

    def seen(up: set[str]):
        return lambda plan, node_dir, host=None: [
            SessionState(s.name, s.family, s.a_node, s.b_node, s.b_address,
                         "Established" if s.name in up else "Active", 0, True, 0.0)
            for s in interconnect]
    every = {s.name for s in interconnect}
    monkeypatch.setattr(harness.observe, "all_sessions", seen(every))
    before = harness._established(lab)
    assert before == every
    labdir.event("fault", scenario="edge-down", target="sea-ms1", member=1)
    fault_at = labdir.events()[-1]["time"]
    monkeypatch.setattr(harness.observe, "all_sessions", seen({"sea-1-b-v4", "sea-1-b-v6"}))
    assert harness.dropped(lab, before, fault_at) == ["sea-1-a-v4", "sea-1-a-v6"]
    labdir.event("bgp-state", node="sea-ms1", lag="sea-1-a", peer="198.18.0.0", state="down",
                 reason="speaker stopped")
    assert harness.dropped(lab, before, fault_at) == ["sea-1-a-v4", "sea-1-a-v6"]
