"""Fault scenarios from the registry, on a recording runtime: what each injects and recovers,
what a refused fault leaves behind (nothing), and each scenario's expectation on recorded
results."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from emulator.core.errors import FaultError, RuntimeUnavailable
from emulator.core.labdir import LabDir
from emulator.judge import scenarios
from emulator.judge.scenarios import TargetKind
from emulator.judge.scenarios import routers
from emulator.nodes import edge_bgp
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
    """A LAG driver that records its member regrouping as runs (the Open vSwitch driver's own
    commands are in tests/unit/test_lag_mismatch.py)."""
    if name != "openvswitch":
        return SimpleNamespace(name=name)

    def mismatch_member(node: str, lag, member: str) -> str:
        runtime.run(node, ["mismatch", lag.name, member])
        return "56:7e:8d:80:d5:4f"

    def restore_member(node: str, lag, member: str) -> None:
        runtime.run(node, ["restore", lag.name, member])
    return SimpleNamespace(name=name, mismatch_member=mismatch_member,
                           restore_member=restore_member)


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
        "edge-leak": TargetKind.EDGE, "location-down": TargetKind.LOCATION}
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
        "lag-down": 14.0, "peer-router-down": 14.0, "edge-down": 14.0, "location-down": 14.0,
        "edge-leak": 5.0}


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


def test_lacp_mismatch_regroups_the_member_on_the_peer_side_and_back(lab):
    scenarios.inject(lab, "lacp-mismatch", "sea-1-a", member=1)
    assert lab.runtime.runs("sea-pr1") == [("mismatch", "sea-1-a", "lag0m1")]
    scenarios.recover(lab)
    assert lab.runtime.runs("sea-pr1")[-1] == ("restore", "sea-1-a", "lag0m1")


def test_lacp_mismatch_is_refused_on_kernel_bonds_before_anything_is_recorded(lab):
    lab.driver = ovs_driver("kernel-bond")
    with pytest.raises(RuntimeUnavailable, match="regroup one member"):
        scenarios.inject(lab, "lacp-mismatch", "sea-1-a")
    assert lab.runtime.calls == [] and recorded(lab) == [] and lab.dir.events() == []


def test_lag_down_takes_every_member_down_and_bgp_comes_back_through_the_automation(
        lab, monkeypatch, speaker):
    exabgp = speaker("sea-ms1", ["sea-1-a"])
    automation: list[tuple] = []
    from emulator.lab import automation as lab_automation
    monkeypatch.setattr(lab_automation, "edge_automation", lambda lab, lag: automation.append(
        (lag.name, list(lab.runtime.runs("sea-pr1")[-2:]), exabgp.wait(timeout=5))))
    scenarios.inject(lab, "lag-down", "sea-1-a")
    assert lab.runtime.runs("sea-pr1") == [("ip", "link", "set", "lag0m1", "down"),
                                           ("ip", "link", "set", "lag0m2", "down")]
    assert automation == [] and exabgp.poll() is None
    scenarios.recover(lab)
    # The link's neighbors leave the edge's speaker (its configuration rewritten, then SIGUSR1:
    # reload) before the members come up, and the edge automation (which waits for the LAG and
    # records lag-up) configures BGP again once they are.
    assert automation == [("sea-1-a", [("ip", "link", "set", "lag0m1", "up"),
                                       ("ip", "link", "set", "lag0m2", "up")], -signal.SIGUSR1)]
    d = lab.node_dir("sea-ms1")
    assert edge_bgp.SpeakerState.read(d).links == []
    assert "neighbor 198.18.0.0" not in (d / "exabgp" / "exabgp.conf").read_text()
    stopped = [e for e in lab.dir.events() if e["kind"] == "bgp-state"]
    assert {(e["peer"], e["state"], e["reason"]) for e in stopped} == {
        ("198.18.0.0", "down", "speaker stopped"), ("2001:db8:ffff::", "down", "speaker stopped")}


@pytest.mark.parametrize("scenario, target, member, message", [
    ("member-down", "sea-1-z", 1, "no LAG named 'sea-1-z'; LAGs: sea-1-a, sea-1-b"),
    ("member-silent", "sea-1-a", 3, "sea-1-a has members 1-2, not 3"),
    ("lag-down", "sea-pr1", 1, "no LAG named 'sea-pr1'"),
    ("peer-router-down", "sea-ms1", 1, "'sea-ms1' is not a peer-router"),
    ("edge-down", "sea-pr1", 1, "'sea-pr1' is not a microsoft-edge"),
    ("location-down", "ams", 1, "no routers at location 'ams'"),
    ("location-down", "sea", 1, "location-down sea: lab seattle has one location only, so the "
                                "traffic has nowhere to move"),
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


@pytest.fixture
def speaker(lab):
    """An edge's ExaBGP stand-in: a process named by the speaker's configuration path (as
    edge_bgp.running_pid recognises it), with its state and pid file."""
    procs = []

    def start(edge: str, links: list[str]) -> subprocess.Popen:
        d = lab.node_dir(edge)
        (d / "exabgp").mkdir(parents=True)
        edge_bgp.SpeakerState(links=links).write(d)
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                                 str(d / "exabgp" / "exabgp.conf")])
        edge_bgp.pid_file(d).write_text(f"{proc.pid}\n")
        procs.append(proc)
        return proc
    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_peer_router_down_cuts_the_links_first_then_kills_its_daemons(lab, sleeper):
    (lab.node_dir("sea-pr1") / "bgpd.pid").write_text(f"{sleeper.pid}\n")
    scenarios.inject(lab, "peer-router-down", "sea-pr1")
    assert lab.runtime.runs("sea-pr1") == [("ip", "link", "set", name, "down")
                                           for name in ("lag0m1", "lag0m2", "ix0")]
    assert sleeper.wait(timeout=5) == -9


def test_edge_down_kills_the_edges_exabgp(lab, speaker):
    exabgp = speaker("sea-ms2", ["sea-1-b"])
    scenarios.inject(lab, "edge-down", "sea-ms2")
    assert lab.runtime.runs("sea-ms2") == [("ip", "link", "set", name, "down")
                                           for name in ("lag1m1", "lag1m2")]
    assert exabgp.wait(timeout=5) == -9
    stopped = [e for e in lab.dir.events() if e["kind"] == "bgp-state"]
    assert {(e["lag"], e["state"]) for e in stopped} == {("sea-1-b", "down")}


@pytest.fixture
def two_locations(tmp_path) -> FakeLab:
    labdir = LabDir("unit2", root=tmp_path)
    labdir.path.mkdir(parents=True)
    runtime = FakeRuntime()
    return FakeLab(resolve(load(ROOT / "topologies" / "two-locations.yaml")), labdir, runtime,
                   ovs_driver(runtime=runtime))


def test_location_down_stops_and_restarts_every_router_of_the_location(two_locations,
                                                                       monkeypatch):
    lab = two_locations
    started: list[tuple] = []
    monkeypatch.setattr(routers.registry, "kind_of", lambda spec: SimpleNamespace(
        start=lambda host, plan, node, d: started.append(("program", node.name))))
    monkeypatch.setattr(routers.edge_bgp, "start", lambda runtime, plan, node, d, events:
                        started.append(("speaker", node.name)))
    from emulator.lab import automation as lab_automation
    monkeypatch.setattr(lab_automation, "edge_automation",
                        lambda lab, lag: started.append(("automation", lag.name)))
    scenarios.inject(lab, "location-down", "sea")
    assert sorted({c[1] for c in lab.runtime.calls}) == ["sea-ms1", "sea-ms2", "sea-pr1", "sea-pr2"]
    assert all(run[-1] == "down" for run in lab.runtime.runs())
    scenarios.recover(lab)
    sea = [l.name for l in lab.plan.lags if l.b_node.startswith("sea-")]
    assert sea and started == [("program", "sea-pr1"), ("program", "sea-pr2"),
                               ("speaker", "sea-ms1"), ("speaker", "sea-ms2")] + [
        ("automation", name) for name in sea]
    assert kinds(lab)[-1] == ("recover", "location-down", "sea")


# ---- expectations: each scenario's judge on recorded failovers is in test_scenario_judges.py ----

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


@pytest.mark.parametrize("argv", [["fail", "seattle", "location-down", "sea"],
                                  ["failover", "seattle", "location-down", "sea"]])
def test_location_down_on_a_one_location_lab_is_a_bad_argument(lab, monkeypatch, capsys, argv):
    """Refused up front: one clear line, exit 2, nothing recorded, no traffic sent."""
    from contextlib import contextmanager

    from emulator.cli import main as cli
    from emulator.lab import lifecycle

    @contextmanager
    def attached(name):
        yield lab
    monkeypatch.setattr(lifecycle, "attached", attached)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err == ("error: location-down sea: lab seattle has one location only, so the traffic "
                   "has nowhere to move; use a lab of two locations or more (e.g. "
                   "topologies/two-locations.yaml)\n")
    assert lab.runtime.calls == [] and recorded(lab) == [] and lab.dir.events() == []
