"""Failover under real traffic: each scenario asserts its expectation with the measured figures."""
from __future__ import annotations

import pytest

from emulator.judge import harness
from emulator.judge import traffic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def carrying(seattle_lab):
    """The link, peer router and edge that carry the probe's traffic before any fault."""
    baseline = traffic.measure(seattle_lab, count=100, rate=100)
    assert baseline.lost == 0, baseline
    edge = max(baseline.responders, key=baseline.responders.get)
    lag = next(l for l in seattle_lab.plan.lags if l.b_node == edge)
    return lag


def _assert(verdict):
    assert verdict.passed, f"{verdict.check}: {verdict.summary}; " + "; ".join(verdict.evidence)


def test_member_loss_keeps_the_lag_and_every_session(seattle_lab, carrying):
    result = harness.run(seattle_lab, "member-down", carrying.name, member=1)
    _assert(harness.judge(result))
    assert result.session_drops == 0 and result.lag_stayed_up, result


def test_silent_member_failure_is_removed_within_the_lacp_timeout(seattle_lab, carrying):
    result = harness.run(seattle_lab, "member-silent", carrying.name, member=2)
    _assert(harness.judge(result))
    assert result.member_removed_after is not None
    assert result.member_removed_after <= harness.LACP_FAST_TIMEOUT + 1.0, result
    assert result.session_drops == 0, result


def test_lacp_partner_mismatch_leaves_the_member_out(seattle_lab, carrying):
    result = harness.run(seattle_lab, "lacp-mismatch", carrying.name, member=1)
    _assert(harness.judge(result))


def test_link_loss_moves_traffic_within_the_hold_time(seattle_lab, carrying):
    result = harness.run(seattle_lab, "lag-down", carrying.name)
    _assert(harness.judge(result))
    other = {l.b_node for l in seattle_lab.plan.lags} - {carrying.b_node}
    assert other & set(result.traffic.responders), result.traffic.responders
    limit = seattle_lab.plan.timers.hold + harness.PROPAGATION_MARGIN
    assert result.traffic.longest_gap_ms <= limit * 1000
    assert result.after_recovery.lost == 0


def test_peer_router_loss_moves_traffic(seattle_lab, carrying):
    result = harness.run(seattle_lab, "peer-router-down", carrying.a_node)
    _assert(harness.judge(result))
    assert result.traffic.received > 0 and result.after_recovery.lost == 0


def test_microsoft_edge_loss_moves_traffic(seattle_lab, carrying):
    result = harness.run(seattle_lab, "edge-down", carrying.b_node)
    _assert(harness.judge(result))
    assert result.after_recovery.lost == 0


def test_report_with_the_failovers_and_a_timeline_picture(seattle_lab, tmp_path):
    from PIL import Image

    from emulator.judge import report
    markdown = report.write(seattle_lab, tmp_path)
    text = markdown.read_text()
    assert "| lag-down |" in text and "| PASS |" in text
    assert "![timeline](timeline.png)" in text
    with Image.open(tmp_path / "timeline.png") as picture:
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] >= 800
