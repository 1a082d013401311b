"""Failover under real traffic: each scenario, aimed at the path carrying the probe when it is
injected, judged by its own expectation from what was observed while the fault held."""
from __future__ import annotations

import pytest

from emulator.core.errors import FaultError
from emulator.judge import harness, scenarios

pytestmark = pytest.mark.integration


def _run(lab, scenario: str, **options):
    """One aimed failover; its verdict must pass, and its target must be where the traffic was."""
    result = harness.run(lab, scenario, **options)
    verdict = harness.judge(result)
    assert verdict.passed, f"{verdict.check}: {verdict.summary}; " + "; ".join(verdict.evidence)
    assert result.carrying and result.on_path, result
    return result


def _edge_sides(result):
    return [s for s in result.samples_during() if s.side == "edge"]


def test_member_loss_keeps_the_lag_and_every_session(seattle_lab):
    result = _run(seattle_lab, "member-down", member=1)
    assert result.session_drops == 0 and result.lag_stayed_up, result
    # The bundle was seen without the member, in looks taken all through the fault.
    assert min(s.members_up for s in _edge_sides(result)) == 1
    assert all(s.members_up >= 1 for s in result.samples_during())


def test_silent_member_failure_is_removed_within_the_lacp_timeout(seattle_lab):
    result = _run(seattle_lab, "member-silent", member=2)
    assert result.member_removed_after is not None
    assert result.member_removed_after <= harness.LACP_FAST_TIMEOUT + 1.0, result
    assert result.session_drops == 0, result


def test_lacp_partner_mismatch_leaves_the_member_out(seattle_lab):
    result = _run(seattle_lab, "lacp-mismatch", member=1)
    # Selection rejected the member on both ends and it never came back while the fault held.
    removed = result.injected_at + result.member_removed_after
    late = [s for s in result.samples_during() if s.at > removed + harness.LACP_FAST_TIMEOUT]
    assert late and not any(s.member_up for s in late), late
    assert {s.side for s in late} == {"peer", "edge"}
    assert all(s.members_up == 1 for s in late if s.side == "edge")


def test_link_loss_moves_traffic_within_the_hold_time(seattle_lab):
    result = _run(seattle_lab, "lag-down")
    assert set(result.traffic.responders) - {result.carrying}, result.traffic.responders
    limit = seattle_lab.plan.timers.hold + harness.PROPAGATION_MARGIN
    assert result.traffic.longest_gap_ms <= limit * 1000
    assert result.after_recovery.lost == 0


def test_peer_router_loss_moves_traffic(seattle_lab):
    result = _run(seattle_lab, "peer-router-down")
    assert result.traffic.received > 0 and result.after_recovery.lost == 0


def test_microsoft_edge_loss_moves_traffic_and_counts_drops_from_the_peer(seattle_lab):
    result = _run(seattle_lab, "edge-down")
    # The killed edge records nothing; its peer router's sessions to it dropped (v4 and v6).
    assert result.session_drops == 2, result
    assert result.after_recovery.lost == 0


def test_location_down_is_refused_on_a_one_location_lab(seattle_lab):
    with pytest.raises(FaultError, match="has one location only"):
        harness.run(seattle_lab, "location-down", "sea")
    assert scenarios.active(seattle_lab) == []


def test_report_with_the_failovers_and_a_timeline_picture(seattle_lab, tmp_path):
    from PIL import Image

    from emulator.judge import report
    result = _run(seattle_lab, "member-down", member=2)
    markdown = report.write(seattle_lab, tmp_path)
    text = markdown.read_text()
    assert f"| member-down | {result.target} | PASS | {result.traffic.sent} |" in text
    assert "![timeline](timeline.png)" in text
    with Image.open(tmp_path / "timeline.png") as picture:
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] >= 800
