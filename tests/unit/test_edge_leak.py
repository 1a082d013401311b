"""edge-leak and no-readvertisement without root: what the fault changes at the edge, and the
check on the internet node's recorded tables with and without the leak."""
from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.core import wait
from emulator.core.errors import FaultError, WaitTimeout
from emulator.core.labdir import LabDir
from emulator.judge import checks, scenarios
from emulator.nodes import edge_bgp
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
BIRD = ROOT / "tests" / "fixtures" / "nodes" / "bird"
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


@dataclass
class InternetHost:
    """The internet node's birdc answering from a recording (internet/ or internet-leak/)."""

    recording: str

    def run(self, node, argv, check=True, timeout=30.0):
        table = next((t for t in ("master4", "master6") if t in argv[-1]), None)
        out = (BIRD / self.recording / f"birdc-show-route-{table}.txt").read_text() \
            if argv[0] == "birdc" and table else ""
        return subprocess.CompletedProcess(list(argv), 0, out, "")


@dataclass
class LeakLab:
    plan: Plan
    dir: LabDir
    host: object

    def node_dir(self, node: str) -> Path:
        return self.dir.node(node)


def _lab(tmp_path, recording: str = "internet") -> LeakLab:
    labdir = LabDir("unit", root=tmp_path)
    labdir.path.mkdir(parents=True)
    return LeakLab(PLAN, labdir, InternetHost(recording))


def test_no_readvertisement_names_every_leaked_prefix(tmp_path):
    verdict = checks.no_readvertisement(_lab(tmp_path, "internet-leak"))
    assert not verdict.passed
    assert verdict.summary == "6 peer prefix(es) re-advertised to the internet"
    assert "leaked: 192.0.2.0/24 (from sea-ms2)" in verdict.evidence
    assert "leaked: 2001:db8:300::/48 (from sea-ms2)" in verdict.evidence


def test_no_readvertisement_passes_on_the_clean_table(tmp_path):
    verdict = checks.no_readvertisement(_lab(tmp_path))
    assert verdict.passed, verdict
    assert verdict.evidence[0] == "the internet holds 315 of 315 Microsoft prefixes"


def test_the_leak_is_an_edge_fault_refused_where_there_is_no_internet_session(tmp_path):
    lab = _lab(tmp_path)
    assert scenarios.get("edge-leak").target_kind is scenarios.TargetKind.EDGE
    with pytest.raises(FaultError, match="not a microsoft-edge"):
        scenarios.inject(lab, "edge-leak", "sea-pr1")
    with pytest.raises(FaultError, match="its ExaBGP is not running"):
        scenarios.inject(lab, "edge-leak", "sea-ms1")
    assert scenarios.active(lab) == []


def test_inject_announces_the_exchange_prefixes_to_the_internet_and_recover_takes_them_back(
        tmp_path, monkeypatch):
    lab = _lab(tmp_path)
    d = lab.node_dir("sea-ms1") / "exabgp"
    d.mkdir(parents=True)
    reloads = []
    monkeypatch.setattr("os.kill", lambda pid, sig: reloads.append((pid, sig)))
    monkeypatch.setattr(edge_bgp, "running_pid", lambda node_dir: 4242)
    scenarios.inject(lab, "edge-leak", "sea-ms1")
    leaking = (d / "exabgp.conf").read_text()
    assert "unicast 192.0.2.0/24 next-hop self;" in leaking
    assert "unicast 2001:db8:200::/48 next-hop self;" in leaking
    assert reloads == [(4242, signal.SIGUSR1)]
    scenarios.recover(lab)           # the recorded table holds no leak: nothing to wait for
    clean = (d / "exabgp.conf").read_text()
    assert "192.0.2.0/24" not in clean and PLAN.microsoft_prefixes[0] in clean
    assert reloads[-1] == (4242, signal.SIGUSR1) and scenarios.active(lab) == []


def test_with_two_edges_leaking_only_the_last_recovery_waits_for_a_clean_table(tmp_path,
                                                                               monkeypatch):
    lab = _lab(tmp_path, "internet-leak")        # the internet still hears a leak throughout
    for edge in ("sea-ms1", "sea-ms2"):
        (lab.node_dir(edge) / "exabgp").mkdir(parents=True)
    monkeypatch.setattr(edge_bgp, "running_pid", lambda node_dir: 4242)
    monkeypatch.setattr("os.kill", lambda pid, sig: None)
    monkeypatch.setitem(wait.BUDGETS, "prefixes", 0.2)
    older = scenarios.inject(lab, "edge-leak", "sea-ms1")
    newer = scenarios.inject(lab, "edge-leak", "sea-ms2")
    edge_leak = scenarios.get("edge-leak")
    edge_leak.recover(lab, newer)                # the older leak holds: no wait, no timeout
    with pytest.raises(WaitTimeout, match="the internet still holds"):
        edge_leak.recover(lab, older)
