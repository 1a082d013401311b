"""Fault scenarios from the registry, on a recording runtime: what each injects and recovers,
what a refused fault leaves behind (nothing), and each scenario's expectation on recorded
results."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from emulator.core.errors import FaultError, RuntimeUnavailable
from emulator.core.labdir import LabDir
from emulator.judge import harness, scenarios
from emulator.judge.probe import ProbeResult
from emulator.judge.scenarios import TargetKind
from emulator.judge.scenarios import routers
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.runtime.fake import FakeRuntime
from emulator.topology.loader import load
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def plan() -> Plan:
    return resolve(load(ROOT / "topologies" / "seattle.yaml"))


@dataclass
class FakeLab:
    plan: Plan
    dir: LabDir
    runtime: FakeRuntime
    driver: SimpleNamespace

    def node_dir(self, node: str):
        return self.dir.node(node)


def ovs_driver(name: str = "openvswitch", runtime: FakeRuntime | None = None):
    """A LAG driver that records its aggregation-key changes as ovs-vsctl runs."""
    def set_aggregation_key(node: str, member: str, key: int | None) -> None:
        args = (["remove", "interface", member, "other_config", "lacp-aggregation-key"]
                if key is None else
                ["set", "interface", member, f"other_config:lacp-aggregation-key={key}"])
        runtime.run(node, ["ovs-vsctl", node, *args])
    return SimpleNamespace(name=name, set_aggregation_key=set_aggregation_key)


@pytest.fixture
def lab(plan, tmp_path) -> FakeLab:
    labdir = LabDir("unit", root=tmp_path)
    labdir.path.mkdir(parents=True)
    runtime = FakeRuntime()
    return FakeLab(plan, labdir, runtime, ovs_driver(runtime=runtime))


def recorded(lab) -> list[dict]:
    path = lab.dir.path / "faults.json"
    return json.loads(path.read_text()) if path.exists() else []


def kinds(lab) -> list[tuple]:
    return [(e["kind"], e["scenario"], e["target"]) for e in lab.dir.events()]


# ---- the registry ----

def test_every_scenario_is_registered_with_its_target_kind():
    found = {name: s.target_kind for name, s in scenarios.registered().items()}
    assert found == {
        "member-down": TargetKind.MEMBER, "member-silent": TargetKind.MEMBER,
        "lacp-mismatch": TargetKind.MEMBER, "lag-down": TargetKind.LAG, "prefix-flood": TargetKind.LAG,
        "peer-router-down": TargetKind.PEER_ROUTER, "edge-down": TargetKind.EDGE,
        "location-down": TargetKind.LOCATION}
    order = list(TargetKind)
    ranks = [order.index(scenarios.get(n).target_kind) for n in scenarios.names()]
    assert ranks == sorted(ranks)
    assert all(scenarios.get(n).summary for n in scenarios.names())


def test_an_unknown_scenario_names_the_known_ones(lab):
    with pytest.raises(FaultError, match=r"unknown scenario 'cable-cut'; one of lacp-mismatch, "):
        scenarios.inject(lab, "cable-cut", "sea-1-a")
    assert recorded(lab) == [] and lab.dir.events() == []


def test_how_long_each_fault_holds_under_traffic(plan):
    assert {n: scenarios.get(n).hold(plan) for n in scenarios.names()} == {
        "lacp-mismatch": 5.0, "member-down": 5.0, "member-silent": 5.0, "prefix-flood": 5.0,
        "lag-down": 14.0, "peer-router-down": 14.0, "edge-down": 14.0, "location-down": 14.0}


# ---- LAG scenarios ----

def test_member_down_takes_one_member_down_on_the_peer_side_and_back(lab):
    fault = scenarios.inject(lab, "member-down", "sea-1-a", member=2)
    assert lab.runtime.runs() == [("ip", "link", "set", "lag0m2", "down")]
    assert lab.runtime.calls[0][1] == "sea-pr1"
    assert recorded(lab) == [{"scenario": "member-down", "target": "sea-1-a", "member": 2,
                              "injected_at": fault.injected_at}]
    assert scenarios.active(lab) == [fault]
    assert scenarios.recover(lab) == [fault]
    assert lab.runtime.runs()[-1] == ("ip", "link", "set", "lag0m2", "up")
    assert recorded(lab) == []
    assert kinds(lab) == [("fault", "member-down", "sea-1-a"),
                          ("recover", "member-down", "sea-1-a")]
    assert [e["member"] for e in lab.dir.events()] == [2, 2]


def test_member_silent_drops_lacpdus_on_both_ends(lab):
    scenarios.inject(lab, "member-silent", "sea-1-b", member=1)
    (pr, script_pr), (ms, script_ms) = [(c[1], c[2][2]) for c in lab.runtime.calls]
    assert (pr, ms) == ("sea-pr2", "sea-ms2")
    assert "table netdev lacpcut_lag1m1" in script_pr
    assert 'hook egress device "lag1m1"' in script_ms
    assert "ether type 0x8809 counter drop" in script_ms
    scenarios.recover(lab)
    assert lab.runtime.runs()[-2:] == [("nft", "delete", "table", "netdev", "lacpcut_lag1m1")] * 2


def test_lacp_mismatch_gives_the_member_another_key_and_takes_it_back(lab):
    scenarios.inject(lab, "lacp-mismatch", "sea-1-a", member=1)
    assert lab.runtime.runs("sea-pr1") == [
        ("ovs-vsctl", "sea-pr1", "set", "interface", "lag0m1",
         "other_config:lacp-aggregation-key=4093")]
    scenarios.recover(lab)
    assert lab.runtime.runs("sea-pr1")[-1] == (
        "ovs-vsctl", "sea-pr1", "remove", "interface", "lag0m1", "other_config",
        "lacp-aggregation-key")


def test_lacp_mismatch_is_refused_on_kernel_bonds_before_anything_is_recorded(lab):
    lab.driver = ovs_driver("kernel-bond")
    with pytest.raises(RuntimeUnavailable, match="per-member aggregation keys"):
        scenarios.inject(lab, "lacp-mismatch", "sea-1-a")
    assert lab.runtime.calls == [] and recorded(lab) == [] and lab.dir.events() == []


def test_lag_down_takes_every_member_down(lab):
    scenarios.inject(lab, "lag-down", "sea-1-a")
    assert lab.runtime.runs("sea-pr1") == [("ip", "link", "set", "lag0m1", "down"),
                                           ("ip", "link", "set", "lag0m2", "down")]
    scenarios.recover(lab)
    assert lab.runtime.runs("sea-pr1")[-2:] == [("ip", "link", "set", "lag0m1", "up"),
                                                ("ip", "link", "set", "lag0m2", "up")]


@pytest.mark.parametrize("scenario, target, member, message", [
    ("member-down", "sea-1-z", 1, "no LAG named 'sea-1-z'; LAGs: sea-1-a, sea-1-b"),
    ("member-silent", "sea-1-a", 3, "sea-1-a has members 1-2, not 3"),
    ("lag-down", "sea-pr1", 1, "no LAG named 'sea-pr1'"),
    ("peer-router-down", "sea-ms1", 1, "'sea-ms1' is not a peer-router"),
    ("edge-down", "sea-pr1", 1, "'sea-pr1' is not a microsoft-edge"),
    ("location-down", "ams", 1, "no routers at location 'ams'"),
])
def test_a_refused_fault_leaves_nothing_behind(lab, scenario, target, member, message):
    with pytest.raises(FaultError, match=message):
        scenarios.inject(lab, scenario, target, member)
    assert lab.runtime.calls == [] and recorded(lab) == [] and lab.dir.events() == []
    assert scenarios.recover(lab) == []


# ---- router scenarios ----

@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_peer_router_down_cuts_the_links_first_then_kills_its_daemons(lab, sleeper):
    (lab.node_dir("sea-pr1") / "bgpd.pid").write_text(f"{sleeper.pid}\n")
    scenarios.inject(lab, "peer-router-down", "sea-pr1")
    assert lab.runtime.runs("sea-pr1") == [("ip", "link", "set", name, "down")
                                           for name in ("lag0m1", "lag0m2", "ix0")]
    assert sleeper.wait(timeout=5) == -9


def test_edge_down_kills_every_exabgp_of_the_edge(lab, sleeper):
    (lab.node_dir("sea-ms2") / "lag1").mkdir()
    (lab.node_dir("sea-ms2") / "lag1" / "exabgp.pid").write_text(str(sleeper.pid))
    scenarios.inject(lab, "edge-down", "sea-ms2")
    assert lab.runtime.runs("sea-ms2") == [("ip", "link", "set", name, "down")
                                           for name in ("lag1m1", "lag1m2")]
    assert sleeper.wait(timeout=5) == -9


def test_location_down_stops_and_restarts_every_router_of_the_location(lab, monkeypatch):
    started: list[tuple] = []
    monkeypatch.setattr(routers.registry, "kind_of", lambda spec: SimpleNamespace(
        start=lambda host, plan, node, d: started.append(("program", node.name))))
    monkeypatch.setattr(routers.exabgp, "start_internet",
                        lambda runtime, plan, node, d: started.append(("internet", node.name)))
    from emulator.lab import lifecycle
    monkeypatch.setattr(lifecycle, "edge_automation",
                        lambda lab, lag: started.append(("automation", lag.name)))
    scenarios.inject(lab, "location-down", "sea")
    assert sorted({c[1] for c in lab.runtime.calls}) == ["sea-ms1", "sea-ms2", "sea-pr1", "sea-pr2"]
    assert all(run[-1] == "down" for run in lab.runtime.runs())
    scenarios.recover(lab)
    assert started == [("program", "sea-pr1"), ("program", "sea-pr2"),
                       ("internet", "sea-ms1"), ("automation", "sea-1-a"),
                       ("internet", "sea-ms2"), ("automation", "sea-1-b")]
    assert kinds(lab)[-1] == ("recover", "location-down", "sea")


# ---- expectations, judged on recorded results ----

def probe(sent=500, lost=0, gap_ms=10.0, responders=None) -> ProbeResult:
    return ProbeResult(sent, sent - lost, 0, 0, 10.0, gap_ms,
                       responders if responders is not None else {"sea-ms1": sent - lost})


def result(scenario, traffic=None, drops=0, lag_up=True, removed=None, lost_after=0):
    return harness.ScenarioResult(scenario, "sea-1-a", 1, traffic or probe(),
                                  probe(200, lost_after), drops, lag_up, removed, 2.0, 10,
                                  1_700_000_000.0)


def problems(r) -> tuple[str, ...]:
    verdict = harness.judge(r)
    return tuple(e for e in verdict.evidence if not e.startswith(("responders", "recovered")))


GOOD = {"member-down": {}, "lacp-mismatch": {}, "member-silent": {"removed": 2.4},
        "lag-down": {"traffic": probe(1400, 800, 8000.0)},
        "peer-router-down": {"traffic": probe(1400, 800, 8000.0)},
        "edge-down": {"traffic": probe(1400, 800, 8000.0)},
        "location-down": {"traffic": probe(1400, 800, 11400.0)}}


@pytest.mark.parametrize("scenario", sorted(GOOD))
def test_a_good_result_passes_and_loss_after_recovery_fails(scenario):
    good = harness.judge(result(scenario, **GOOD[scenario]))
    assert good.passed and good.check == f"failover {scenario} sea-1-a", good
    assert problems(result(scenario, **GOOD[scenario], lost_after=3)) == (
        "3 packets lost after recovery, expected 0",)


@pytest.mark.parametrize("scenario", ["member-down", "lacp-mismatch"])
def test_a_member_fault_must_keep_the_lag_and_every_session(scenario):
    assert problems(result(scenario, drops=2, lag_up=False)) == (
        "2 BGP session drop(s), expected 0",
        "the LAG went down, expected it to stay up on the other member")


def test_a_silent_member_must_leave_the_bundle_within_the_lacp_timeout():
    assert problems(result("member-silent")) == (
        "the silent member was never removed from the bundle",)
    assert problems(result("member-silent", removed=4.5, drops=1)) == (
        "1 BGP session drop(s), expected 0",
        "member removed after 4.5 s, expected within the LACP fast timeout (3 s, +1 s of polling)")
    verdict = harness.judge(result("member-silent", removed=2.4))
    assert verdict.summary.endswith(", member out after 2.40 s")


@pytest.mark.parametrize("scenario", ["lag-down", "peer-router-down", "edge-down", "location-down"])
def test_an_outage_must_move_the_traffic_within_the_hold_time(scenario):
    assert problems(result(scenario, traffic=probe(1400, 1400, 14000.0, {}))) == (
        "traffic took 14000 ms to move, more than the hold time 10 s + 1.5 s to propagate",
        "no traffic at all got through")


def test_prefix_flood_exceeds_the_pages_limit_with_new_prefixes(plan):
    from emulator.core.page import MAX_PREFIX_MAXIMUM
    from emulator.judge.scenarios.prefix_flood import flood
    extra = flood(plan)
    usual = {p for p in plan.microsoft_prefixes if ":" not in p}
    assert len(usual) + len(extra) > MAX_PREFIX_MAXIMUM
    assert not usual & set(extra) and len(set(extra)) == len(extra)


def test_prefix_flood_fails_when_the_peer_installed_the_flood():
    from emulator.judge.probe import ProbeResult
    from emulator.judge.scenarios.base import ScenarioResult
    traffic = ProbeResult(sent=100, received=100, reordered=0, duplicates=0, interval_ms=10.0,
                          longest_gap_ms=0.0, responders={"sea-ms2": 100})
    good = ScenarioResult("prefix-flood", "sea-1-a", 1, traffic, traffic, 1, True, None, 3.0,
                          10, 0.0)
    bad = ScenarioResult("prefix-flood", "sea-1-a", 1, traffic, traffic, 0, True, None, 3.0,
                         10, 0.0, ("sea-pr1 installed all 270 extra prefixes",))
    assert scenarios.get("prefix-flood").expect(good) == []
    assert scenarios.get("prefix-flood").expect(bad) == ["sea-pr1 installed all 270 extra prefixes"]
