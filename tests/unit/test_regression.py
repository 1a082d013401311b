"""Regression runs without a lab: JUnit rendered from recorded verdicts and parsed back,
baselines recorded and compared (each kind of difference, and none for the same snapshot), the
topology as tested, targets per scenario kind, and bad input to `mapslab test` (exit 2, nothing
created)."""
from __future__ import annotations

import json
import os
import signal
import time
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from emulator.cli import regression_cmd
from emulator.cli.main import main
from emulator.core.errors import UsageError
from emulator.core.labdir import LabDir
from emulator.judge import baseline, junit, regression
from emulator.judge.junit import Case
from emulator.judge.probe import ProbeResult
from emulator.judge.scenarios import ScenarioResult, TargetKind
from emulator.judge.verdict import Verdict
from emulator.observe import observers
from emulator.plan.model import Role
from emulator.plan.resolve import resolve
from emulator.topology.loader import load, parse
from tests.conftest import ROOT

SEATTLE = ROOT / "topologies" / "seattle.yaml"


# ---- JUnit ----

def recorded_cases() -> list[Case]:
    return [
        Case(junit.LAB, "up", 31.5, Verdict("up", True, "the lab converged")),
        Case(junit.CHECK, "mesh-formed", 0.2, Verdict(
            "mesh-formed", True, "4 of 4 interconnect sessions Established",
            ("sea-1-a-v4 sea-pr1 → sea-ms1 198.18.0.1: Established",))),
        Case(junit.CHECK, "max-prefix", 0.4, Verdict(
            "max-prefix", False, "0 of 4 Microsoft sessions have a prefix limit in 400-500",
            ("sea-pr1 (bird) neighbor 198.18.0.1 AS8075 ipv4: no prefix limit <&> \"x\"",
             "sea-pr2 (bird) says \x1b[1mbold\x1b[0m"))),
        Case(junit.CHECK, "peer-devices", 0.1, error="CommandFailed: nft list ruleset: exit 1"),
        Case(junit.FAILOVER, "member-down sea-1-a member 1", 12.0, Verdict(
            "failover member-down sea-1-a", False, "sent 600, lost 0, session drops 1",
            ("1 BGP session drop(s), expected 0", "recovered in 2.10 s"))),
        Case(junit.FAILOVER, "location-down", 0.0,
             skipped="one location only: there is no other location to move to"),
    ]


def test_junit_parses_back_with_counts_times_and_failure_text(tmp_path):
    path = tmp_path / "junit.xml"
    junit.write(path, "mapslab itregr", recorded_cases(), {"lab": "itregr",
                                                           "router sea-pr1": "bird:/x.conf"})
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6", "failures": "2", "errors": "1", "skipped": "1"}
    assert float(suite.get("time")) == pytest.approx(44.2)
    assert suite.get("timestamp") and suite.get("hostname")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"lab": "itregr", "router sea-pr1": "bird:/x.conf"}
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert [c.get("classname") for c in cases.values()] == [
        "mapslab.lab", "mapslab.check", "mapslab.check", "mapslab.check", "mapslab.failover",
        "mapslab.failover"]
    assert cases["up"].get("time") == "31.500"
    failure = cases["max-prefix"].find("failure")
    assert failure.get("message") == "0 of 4 Microsoft sessions have a prefix limit in 400-500"
    assert failure.get("type") == "max-prefix"
    lines = failure.text.splitlines()
    assert lines[1] == "sea-pr1 (bird) neighbor 198.18.0.1 AS8075 ipv4: no prefix limit <&> \"x\""
    assert lines[2] == "sea-pr2 (bird) says \ufffd[1mbold\ufffd[0m"    # not XML 1.0: replaced
    assert "session drop" in cases["member-down sea-1-a member 1"].find("failure").text
    assert cases["peer-devices"].find("error").get("message").startswith("CommandFailed")
    assert "no other location" in cases["location-down"].find("skipped").get("message")
    assert "Established" in cases["mesh-formed"].find("system-out").text
    assert cases["mesh-formed"].find("failure") is None


def test_a_case_outcome_and_whether_it_fails_a_run():
    outcomes = [(c.outcome, c.ok) for c in recorded_cases()]
    assert outcomes == [("passed", True), ("passed", True), ("failed", False), ("error", False),
                        ("failed", False), ("skipped", True)]


# ---- baselines ----

def snapshot(**changes) -> baseline.Baseline:
    taken = baseline.Baseline(
        lab="seattle", recorded_at=1700000000.0,
        routers={"sea-pr1": "frr", "sea-pr2": "frr"},
        sessions=[baseline.SessionRecord(session="sea-1-a-v4", node="sea-pr1", state="Established"),
                  baseline.SessionRecord(session="sea-1-b-v4", node="sea-pr2", state="Established")],
        prefix_counts={"sea-pr1": {"ipv4": 250, "ipv6": 65}, "sea-pr2": {"ipv4": 250, "ipv6": 65}},
        edges={"sea-1-a": {"192.0.2.0/24": baseline.EdgeVerdict(outcome="optimized", rule="MS-OK")}},
        checks={"mesh-formed": baseline.CheckRecord(passed=True, summary="4 of 4"),
                "max-prefix": baseline.CheckRecord(passed=False, summary="0 of 4")},
        failovers=[failover()])
    return taken.model_copy(update=changes)


def failover(**changes) -> baseline.FailoverRecord:
    figures = dict(scenario="member-down", target="sea-1-a", member=1, passed=True, lost=0,
                   longest_gap_ms=20.0, session_drops=0, lag_stayed_up=True,
                   member_removed_after=0.4, recovery_seconds=3.0, lost_after_recovery=0)
    return baseline.FailoverRecord(**{**figures, **changes})


def test_the_same_snapshot_written_and_read_back_has_no_difference(tmp_path):
    path = tmp_path / "baseline.json"
    baseline.write(snapshot(), path)
    assert json.loads(path.read_text())["format"] == "mapslab-baseline"
    again = baseline.read(path)
    assert again == snapshot()
    assert baseline.compare(again, snapshot()) == []
    assert "no difference" in baseline.render(again, snapshot(), [], str(path))


CHANGED = [
    ("session", dict(sessions=[
        baseline.SessionRecord(session="sea-1-a-v4", node="sea-pr1", state="Active"),
        baseline.SessionRecord(session="sea-1-b-v4", node="sea-pr2", state="Established")]),
     "sea-pr1 sea-1-a-v4: Established → Active"),
    ("session", dict(sessions=[
        baseline.SessionRecord(session="sea-1-a-v4", node="sea-pr1", state="Established")]),
     "sea-pr2 sea-1-b-v4: Established → absent"),
    ("prefix-count", dict(prefix_counts={"sea-pr1": {"ipv4": 250, "ipv6": 0},
                                         "sea-pr2": {"ipv4": 250, "ipv6": 65}}),
     "sea-pr1 ipv6: 65 → 0"),
    ("edge-verdict", dict(edges={"sea-1-a": {"192.0.2.0/24": baseline.EdgeVerdict(
        outcome="rejected", rule="MS-ORIGIN")}}),
     "sea-1-a 192.0.2.0/24: optimized (MS-OK) → rejected (MS-ORIGIN)"),
    ("edge-verdict", dict(edges={"sea-1-a": {
        "192.0.2.0/24": baseline.EdgeVerdict(outcome="optimized", rule="MS-OK"),
        "10.0.0.0/8": baseline.EdgeVerdict(outcome="discarded", rule="MS-BOGON")}}),
     "sea-1-a 10.0.0.0/8: absent → discarded (MS-BOGON)"),
    ("check", dict(checks={"mesh-formed": baseline.CheckRecord(passed=False, summary="2 of 4"),
                           "max-prefix": baseline.CheckRecord(passed=False, summary="0 of 4")}),
     "mesh-formed: pass → FAIL (2 of 4)"),
    ("check", dict(checks={"mesh-formed": baseline.CheckRecord(passed=True, summary="4 of 4"),
                           "max-prefix": baseline.CheckRecord(passed=True, summary="4 of 4")}),
     "max-prefix: FAIL → pass (4 of 4)"),
    ("failover", dict(failovers=[failover(longest_gap_ms=4000.0)]),
     "member-down sea-1-a member 1 longest_gap_ms: 20 → 4000 (worse by 3980, tolerance 500)"),
    ("failover", dict(failovers=[failover(session_drops=1, passed=False)]),
     "member-down sea-1-a member 1 session_drops: 0 → 1 (worse by 1, tolerance 0)"),
    ("failover", dict(failovers=[failover(member_removed_after=None)]),
     "member_removed_after: 0.4 → never"),
    ("failover", dict(failovers=[]), "member-down sea-1-a member 1: measured → absent"),
]


@pytest.mark.parametrize("kind,changes,says", CHANGED, ids=[c[2] for c in CHANGED])
def test_every_kind_of_difference_is_found(kind, changes, says):
    found = baseline.compare(snapshot(), snapshot(**changes))
    assert found, says
    assert {d.kind for d in found} == {kind}
    assert any(says in d.render() for d in found), [d.render() for d in found]


def test_a_failed_failover_is_a_difference_of_its_own():
    found = baseline.compare(snapshot(), snapshot(failovers=[failover(passed=False)]))
    assert [d.render() for d in found] == [
        "failover      member-down sea-1-a member 1: pass → FAIL"]


def test_a_failover_figure_within_the_tolerance_is_no_difference():
    slightly = failover(longest_gap_ms=400.0, lost=30, recovery_seconds=4.4,
                        member_removed_after=1.1)
    assert baseline.compare(snapshot(), snapshot(failovers=[slightly])) == []
    better = failover(longest_gap_ms=0.0, member_removed_after=0.1)
    assert baseline.compare(snapshot(), snapshot(failovers=[better])) == []


def test_render_names_the_programs_and_every_difference():
    now = snapshot(routers={"sea-pr1": "bird /cfg/pr1.conf", "sea-pr2": "frr"},
                   prefix_counts={"sea-pr1": {"ipv4": 0, "ipv6": 0},
                                  "sea-pr2": {"ipv4": 250, "ipv6": 65}})
    found = baseline.compare(snapshot(), now)
    text = baseline.render(snapshot(), now, found, "a.json")
    assert "sea-pr1: frr in the baseline, bird /cfg/pr1.conf now" in text
    assert "2 difference(s):" in text and "sea-pr1 ipv4: 250 → 0" in text


def test_record_snapshots_a_lab_with_the_latest_failover_per_target(tmp_path, monkeypatch):
    plan = resolve(load(SEATTLE))
    labdir = LabDir("seattle", root=tmp_path)
    labdir.path.mkdir(parents=True)
    entry = dict(scenario="member-down", target="sea-1-a", member=1, injected_at=1.0, sent=600,
                 lost=0, longest_gap_ms=20.0, first_lost_at=None, last_lost_at=None,
                 responders={"sea-ms1": 600}, session_drops=0, lag_stayed_up=True,
                 member_removed_after=0.4, recovery_seconds=3.0, lost_after_recovery=0,
                 passed=True, problems=[])
    (labdir.path / "failovers.jsonl").write_text(
        json.dumps(entry) + "\n" + json.dumps({**entry, "longest_gap_ms": 30.0}) + "\n")
    session = observers.SessionState("sea-1-a-v4", "ipv4", "sea-pr1", "sea-ms1", "198.18.0.1",
                                     "Established", 250, True, 0.0)
    monkeypatch.setattr(observers, "all_sessions", lambda *a: [session])
    monkeypatch.setattr(observers, "microsoft_prefix_count",
                        lambda plan, node, d, host=None: {"ipv4": 250, "ipv6": 65})
    route = {"as_path": [64500], "next_hop": "198.18.0.0", "outcome": "optimized",
             "rule": "MS-OK", "reason": "registered"}
    monkeypatch.setattr(observers, "edge_routes", lambda *a: [observers.EdgeRoutes(
        "sea-ms1", "sea-1-a", {"198.18.0.0": {"192.0.2.0/24": route}})])
    lab = SimpleNamespace(plan=plan, dir=labdir, host=observers.LOCAL,
                          node_dir=lambda n: tmp_path / n)
    taken = baseline.record(lab, [Verdict("mesh-formed", True, "4 of 4")])
    assert taken.routers == {"sea-pr1": "frr", "sea-pr2": "frr"}
    assert taken.sessions == [baseline.SessionRecord(session="sea-1-a-v4", node="sea-pr1",
                                                     state="Established")]
    assert taken.prefix_counts["sea-pr2"] == {"ipv4": 250, "ipv6": 65}
    assert taken.edges == {"sea-1-a": {"192.0.2.0/24": baseline.EdgeVerdict(
        outcome="optimized", rule="MS-OK")}}
    assert taken.checks == {"mesh-formed": baseline.CheckRecord(passed=True, summary="4 of 4")}
    assert [f.longest_gap_ms for f in taken.failovers] == [30.0]


NOT_A_BASELINE = [
    ("{not json", "not JSON"),
    ('{"lab": "x"}', 'no "format": "mapslab-baseline"'),
    ('[1, 2]', 'no "format"'),
    ('{"format": "mapslab-baseline", "version": 9}', "baseline version 9"),
    ('{"format": "mapslab-baseline", "version": 1, "lab": "x"}', "recorded_at: Field required"),
]


@pytest.mark.parametrize("text,says", NOT_A_BASELINE, ids=[s for _, s in NOT_A_BASELINE])
def test_a_file_that_is_not_a_baseline_is_refused_with_exit_2(tmp_path, capsys, text, says):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(UsageError, match="baseline"):
        baseline.read(path)
    assert main(["check", "nolabhere", "--against", str(path)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


# ---- the topology as tested, and the targets ----

def test_the_copy_applies_overrides_and_makes_every_config_absolute(tmp_path, monkeypatch):
    folder = tmp_path / "topo"
    (folder / "configs").mkdir(parents=True)
    text = SEATTLE.read_text().replace("lab: seattle\n", "")
    text = text.replace("    software: frr\n    lacp: active\n    max-prefix: 500\n  - name: sea-pr2",
                        "    software: frr\n    config: configs/pr1.conf\n    lacp: active\n"
                        "    max-prefix: 500\n  - name: sea-pr2", 1)
    source = folder / "mylab.yaml"
    source.write_text(text)
    mine = tmp_path / "pr2.conf"
    mine.write_text("# bird\n")
    monkeypatch.chdir(tmp_path)
    topo = load(source)
    overrides = regression.parse_routers(["sea-pr2=bird:pr2.conf"], topo, str(source))
    assert overrides == (regression.RouterOverride("sea-pr2", "bird", mine.resolve()),)
    copy = regression.as_tested(source, topo, overrides)
    assert copy.startswith(f"# {source} as tested by `mapslab test` --router sea-pr2=bird:")
    tested = parse(copy, "copy.yaml")
    assert tested.lab == "mylab"                 # named after the original file, not the copy
    pr1, pr2 = tested.routers
    assert (pr1.software, pr1.config) == ("frr", str((folder / "configs/pr1.conf").resolve()))
    assert (pr2.software, pr2.config) == ("bird", str(mine.resolve()))
    assert pr1.lacp == "active" and pr2.max_prefix == 500


def test_an_override_without_config_drops_the_topologys_file(tmp_path):
    source = tmp_path / "t.yaml"
    source.write_text(SEATTLE.read_text().replace(
        "    software: frr\n", "    software: frr\n    config: frr.conf\n", 1))
    topo = load(source)
    copy = regression.as_tested(source, topo, (regression.RouterOverride("sea-pr1", "bird"),))
    pr1 = parse(copy, "copy.yaml").routers[0]
    assert (pr1.software, pr1.config) == ("bird", None)


def test_each_scenario_kind_gets_the_first_target_of_its_kind():
    plan = resolve(load(SEATTLE))
    first_lag = plan.lags[0]
    assert regression.target_for(plan, TargetKind.MEMBER) == regression.Target(first_lag.name, 1)
    assert regression.target_for(plan, TargetKind.LAG).name == first_lag.name
    assert regression.target_for(plan, TargetKind.PEER_ROUTER).name == "sea-pr1"
    assert regression.target_for(plan, TargetKind.EDGE).name == first_lag.b_node
    alone = regression.target_for(plan, TargetKind.LOCATION)
    assert alone.name is None and "one location only" in alone.skipped
    two = resolve(load(ROOT / "topologies" / "two-locations.yaml"))
    first = two.nodes_with(Role.PEER_ROUTER)[0].location
    assert regression.target_for(two, TargetKind.LOCATION).name == first


def test_scenarios_all_none_or_a_list():
    assert regression.parse_scenarios(None) == ()
    assert regression.parse_scenarios("all") == regression.scenarios.names()
    assert regression.parse_scenarios("member-down, lag-down,member-down") == (
        "member-down", "lag-down")


# ---- the evidence file ----

def test_the_evidence_holds_every_verdict_and_each_scenario_result():
    probe = ProbeResult(600, 600, 0, 0, 10.0, 20.0, {"sea-ms1": 600})
    result = ScenarioResult("member-down", "sea-1-a", 1, probe, probe, 0, True, 0.4, 3.0, 10,
                            1.0)
    cases = recorded_cases()
    run = regression.Run(
        "itregr", SEATTLE, "lab: itregr\n", (regression.RouterOverride("sea-pr1", "bird"),),
        1700000000.0, cases[0], ("LAG sea-1-b did not come up",), tuple(cases[1:4]), None,
        "WaitTimeout: x", (regression.ScenarioOutcome(cases[4], "member-down", "sea-1-a", 1,
                                                      result),
                           regression.ScenarioOutcome(cases[5], "location-down", None, 1)),
        False, ())
    found = json.loads(json.dumps(regression.evidence(run), default=str))
    assert found["passed"] is False and found["degraded"] == ["LAG sea-1-b did not come up"]
    assert found["overrides"] == [{"node": "sea-pr1", "software": "bird", "config": None}]
    assert [c["name"] for c in found["checks"]] == ["mesh-formed", "max-prefix", "peer-devices"]
    assert found["checks"][1]["evidence"][1].startswith("sea-pr2 (bird) says")
    member_down = found["scenarios"][0]
    assert member_down["result"]["traffic"]["lost"] == 0
    assert member_down["result"]["member_removed_after"] == 0.4
    assert member_down["result"]["convergence_ms"] == 20.0
    assert found["scenarios"][1]["outcome"] == "skipped" and found["scenarios"][1]["result"] is None
    assert regression.junit_properties(run)["router sea-pr1"] == "bird"


# ---- bad input to `mapslab test` ----

BAD_TEST = [
    (["--router", "sea-pr1"], "expected NODE=SOFTWARE or NODE=SOFTWARE:CONFIG"),
    (["--router", "sea-pr1=bird:"], "expected NODE=SOFTWARE"),
    (["--router", "=bird"], "expected NODE=SOFTWARE"),
    (["--router", "sea-pr9=bird"], "'sea-pr9' is not a peer router of topologies/seattle.yaml"),
    (["--router", "rs=bird"], "'rs' is not a peer router"),
    (["--router", "sea-pr1=quagga"], "no peer router runs 'quagga'"),
    (["--router", "sea-pr1=bird:/nonexistent/pr1.conf"], "/nonexistent/pr1.conf does not exist"),
    (["--router", "sea-pr1=bird", "--router", "sea-pr1=frr"], "sea-pr1 is given a program twice"),
    (["--scenarios", "member-down,nosuch"], "unknown scenario(s) nosuch"),
]


@pytest.mark.parametrize("extra,says", BAD_TEST, ids=[s for _, s in BAD_TEST])
def test_bad_router_or_scenario_exits_2_and_creates_nothing(extra, says, tmp_path, capsys,
                                                           monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = ["test", "topologies/seattle.yaml", *extra, "--junit", str(tmp_path / "j.xml"),
            "--json", str(tmp_path / "e.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_every_bad_router_is_named_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["test", "topologies/seattle.yaml", "--router", "sea-pr9=bird", "--router",
                 "sea-pr2=quagga", "--junit", str(tmp_path / "j"), "--json", str(tmp_path / "e")])
    err = capsys.readouterr().err
    assert code == 2 and "sea-pr9" in err and "quagga" in err


def test_an_output_folder_that_does_not_exist_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["test", "topologies/seattle.yaml", "--junit", str(tmp_path / "no/j.xml"),
                 "--json", str(tmp_path / "e.json")])
    assert code == 2 and "cannot write into" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---- SIGTERM (a CI job's timeout) ----

def test_sigterm_interrupts_the_run_but_kills_a_forked_child_outright():
    """pyroute2 stops its forked namespace helpers with SIGTERM: they must die of it, not raise
    KeyboardInterrupt into a copy of the run (which hung `mapslab test` before)."""
    before = signal.getsignal(signal.SIGTERM)
    with regression_cmd._terminated_as_interrupt():
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:                                   # the child: never returns into pytest
            try:
                os.write(ready_w, b"x")
                time.sleep(10)
                os._exit(0)
            except BaseException:
                os._exit(7)
        os.read(ready_r, 1)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == before


# ---- judging a lab: errors are cases, a lab that did not recover runs nothing more ----

def test_a_broken_check_or_scenario_is_an_error_case_and_stops_what_follows(monkeypatch):
    from emulator.core.errors import WaitTimeout
    plan = resolve(load(SEATTLE))
    lab = SimpleNamespace(plan=plan, degraded=[], driver=SimpleNamespace(name="kernel-bond"))

    def broken(lab):
        raise KeyError("no such neighbor")
    monkeypatch.setattr(regression, "CHECKS", {
        "mesh-formed": lambda lab: Verdict("mesh-formed", True, "4 of 4"), "broken": broken})

    def lost(*args, **kwargs):
        raise WaitTimeout("lacp_recovery", 40.0, None, "sea-1-a: 1/2 members")
    monkeypatch.setattr(regression.harness, "run", lost)
    monkeypatch.setattr(regression.harness, "settle", lost)
    monkeypatch.setattr(regression.scenarios, "recover", lambda lab: [])
    lines: list[str] = []
    degraded, checks, observed, observe_error, outcomes = regression._judge(
        lab, ("lacp-mismatch", "member-down", "lag-down"), lines.append)
    assert [c.outcome for c in checks] == ["passed", "error"]
    assert checks[1].error == "KeyError: 'no such neighbor'"
    assert observed is None and observe_error                 # a fake lab cannot be observed
    mismatch, member_down, lag_down = outcomes
    assert mismatch.case.outcome == "skipped" and "per-member" in mismatch.case.skipped
    assert member_down.case.outcome == "error" and not member_down.recovered
    assert "recovery failed too: WaitTimeout" in member_down.case.error
    assert lag_down.case.skipped == ("not run: the lab did not recover after "
                                     "member-down on the traffic path member 1")
    assert any(line.startswith("ERROR broken") for line in lines)


def test_a_degraded_lab_runs_no_scenario():
    plan = resolve(load(SEATTLE))
    lab = SimpleNamespace(plan=plan, degraded=["LAG sea-1-b did not come up"])
    outcome = regression._scenario(lab, "member-down", lambda _: None,
                                   "not run: the lab is degraded (LAG sea-1-b did not come up)")
    assert outcome.case.outcome == "skipped" and "degraded" in outcome.case.skipped



def test_a_regression_run_aims_each_fault_at_the_traffic_path(monkeypatch):
    """`mapslab test` passes no target: the harness aims each fault where the probe's echoes
    come from (a fixed first target may carry no traffic and be judged off the path)."""
    from emulator.judge.scenarios.base import ScenarioResult
    from emulator.judge.probe import ProbeResult
    plan = resolve(load(SEATTLE))
    lab = SimpleNamespace(plan=plan, degraded=[], driver=SimpleNamespace(name="openvswitch"))
    asked: list[tuple] = []
    probe = ProbeResult(sent=100, received=100, reordered=0, duplicates=0, interval_ms=10.0,
                        longest_gap_ms=0.0, responders={"sea-ms2": 100})

    def run(lab_, name, target, member, *args, **kwargs):
        asked.append((name, target, member))
        return ScenarioResult(name, "sea-1-b", member, probe, probe, 0, True, None, 1.0,
                              plan.timers.hold, 0.0, carrying="sea-ms2", on_path=True, aimed=True)
    monkeypatch.setattr(regression.harness, "run", run)
    monkeypatch.setattr(regression.harness, "judge",
                        lambda result: Verdict("failover", True, "moved"))
    lines: list[str] = []
    outcome = regression._scenario(lab, "lag-down", lines.append, None)
    assert asked == [("lag-down", None, 1)]
    assert outcome.case.name == "lag-down on the traffic path"
    assert outcome.target == "sea-1-b"
    assert "(sea-1-b)" in lines[-1]


def test_an_aimed_failover_keeps_its_baseline_key_whichever_path_it_took():
    from emulator.judge.baseline import FailoverRecord
    figures = dict(scenario="lag-down", member=1, passed=True, lost=0, longest_gap_ms=0.0,
                   session_drops=0, lag_stayed_up=True, member_removed_after=None,
                   recovery_seconds=1.0, lost_after_recovery=0)
    a = FailoverRecord(target="sea-1-a", aimed=True, **figures)
    b = FailoverRecord(target="sea-1-b", aimed=True, **figures)
    fixed = FailoverRecord(target="sea-1-a", **figures)
    assert a.key == b.key == "lag-down on the traffic path member 1"
    assert fixed.key == "lag-down sea-1-a member 1"
