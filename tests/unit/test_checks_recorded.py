"""Every check of the lab judged on recorded observations, without root: each passes on the
recording of a working lab and fails, naming the evidence, on a recording that breaks it
(tests/fixtures/lab/README.md says how each was made)."""
from __future__ import annotations

import json

import pytest

from emulator.core import wait
from emulator.core.events import EventKind
from emulator.judge import checks
from tests.unit.recorded_lab import RecordedLab, recorded_lab


@pytest.fixture(autouse=True)
def no_negative_window(monkeypatch):
    """Checks that something never happens observe for a window; a recording does not change."""
    monkeypatch.setitem(wait.BUDGETS, "negative_window", 0.0)


@pytest.fixture
def lab_of(tmp_path, monkeypatch):
    """A fresh copy of a recording, each under its own run folder."""
    made = []

    def copy(state: str) -> RecordedLab:
        made.append(state)
        return recorded_lab(state, tmp_path / f"run{len(made)}", monkeypatch)
    return copy


def verdicts(lab: RecordedLab) -> dict[str, checks.Verdict]:
    return {v.check: v for v in checks.run_all(lab)}


def test_a_working_lab_passes_every_check(lab_of):
    lab = lab_of("steady")
    found = verdicts(lab)
    assert set(found) == set(checks.CHECKS)
    assert {name: v.summary for name, v in found.items() if not v.passed} == {}
    assert found["mesh-formed"].summary == "4 of 4 interconnect sessions Established"
    assert found["lag-before-bgp"].summary == "4 session start(s) with the LAG up, 0 without"
    assert "the internet holds 16 of 16 Microsoft prefixes" in found["no-readvertisement"].evidence
    # everything the checks asked was in the recording, but for the pid file of FRR's staticd:
    # it runs only for a file with static routes, and was as absent in the lab as here
    assert [(node, key) for node, key in lab.host.unanswered if key != "file-staticd.pid"] == []


def test_a_link_down_fails_the_mesh_naming_both_sessions(lab_of):
    found = checks.mesh_formed(lab_of("lag-down"))
    assert not found.passed
    assert found.summary == "2 of 4 interconnect sessions Established"
    down = [e for e in found.evidence if not e.endswith("Established")]
    assert [e.split()[:2] for e in down] == [["sea-1-a-v4", "sea-pr1"], ["sea-1-a-v6", "sea-pr1"]]


def test_microsoft_prefixes_held_through_the_partner_do_not_pass_for_a_session_that_is_down(
        lab_of):
    """sea-pr1 still holds the 16 prefixes through sea-pr2 (iBGP) while its own link is down:
    the check fails for sea-pr1's two Microsoft sessions."""
    found = checks.microsoft_prefixes(lab_of("lag-down"))
    assert not found.passed
    bad = [e for e in found.evidence if "session" in e and "received" in e
           and not e.endswith(("12/12 received", "4/4 received"))]
    assert [e.split()[:3] for e in bad] == [["sea-pr1", "session", "sea-1-a-v4"],
                                            ["sea-pr1", "session", "sea-1-a-v6"]]
    assert "sea-pr1: ipv4 12/12, ipv6 4/4" in found.evidence        # held, through sea-pr2


def test_microsoft_prefixes_pass_when_every_session_received_them(lab_of):
    found = checks.microsoft_prefixes(lab_of("steady"))
    assert found.passed
    assert found.summary.endswith("4 of 4 interconnect sessions received them")


def test_an_edge_without_its_session_misses_the_exchange_prefixes(lab_of):
    found = checks.peer_prefixes(lab_of("lag-down"))
    assert not found.passed and found.summary.startswith("1 of 2 edge agents")
    assert found.evidence[0].startswith("sea-ms1 (sea-1-a): 0/6, missing ")


def test_a_peer_prefix_heard_by_the_internet_fails_no_readvertisement(lab_of):
    found = checks.no_readvertisement(lab_of("forbidden"))
    assert not found.passed
    assert any(e.startswith("leaked: 192.0.2.0/24") for e in found.evidence), found.evidence
    assert checks.no_readvertisement(lab_of("steady")).passed


def test_a_conntrack_rule_and_a_shaper_fail_peer_devices(lab_of):
    found = checks.peer_devices(lab_of("forbidden"))
    assert not found.passed
    assert any(e.startswith("sea-pr1: stateful firewall rule: ct state established,related")
               for e in found.evidence), found.evidence
    assert any(e.startswith("sea-pr1: rate limit: lag0: qdisc tbf") for e in found.evidence), \
        found.evidence
    assert any(e.startswith("sea-pr2: no conntrack rule") for e in found.evidence)
    assert checks.peer_devices(lab_of("steady")).passed


def test_a_session_with_no_lag_seen_up_before_it_fails_lag_before_bgp(lab_of):
    """The recorded timeline without what said the LAG sea-1-a was up (the edge automation's
    lag-up and the monitor's edge-side lag-state): its sessions came up with the LAG unseen."""
    lab = lab_of("steady")
    assert checks.lag_before_bgp(lab).passed
    events = [json.loads(line) for line in lab.dir.events_file.read_text().splitlines()]
    kept = [e for e in events if not (e.get("lag") == "sea-1-a" and e["kind"] in
                                      (EventKind.LAG_UP.value, EventKind.LAG_STATE.value))]
    assert len(kept) < len(events)
    lab.dir.events_file.write_text("".join(json.dumps(e) + "\n" for e in kept))
    found = checks.lag_before_bgp(lab)
    assert not found.passed
    assert found.summary == "2 session start(s) with the LAG up, 2 without"
    assert all("sea-1-a: session" in e and "never seen up" in e for e in found.evidence[:2])


def test_the_rendered_verdicts_say_pass_and_fail_with_their_evidence(lab_of):
    text = checks.render(checks.run_all(lab_of("lag-down")))
    assert "FAIL  mesh-formed" in text and "PASS  max-prefix" in text
    assert "        sea-1-a-v4 sea-pr1" in text


def test_the_router_checks_on_a_link_down(lab_of):
    """both-families fails for the link whose sessions are down; no-leak-to-microsoft refuses
    to pass a lab that has not converged; max-prefix still reads every limit."""
    found = verdicts(lab_of("lag-down"))
    assert not found["both-families"].passed
    assert any("sea-1-a" in e for e in found["both-families"].evidence)
    assert not found["no-leak-to-microsoft"].passed
    assert found["max-prefix"].passed
    good = verdicts(lab_of("steady"))
    assert good["both-families"].passed and good["no-leak-to-microsoft"].passed
