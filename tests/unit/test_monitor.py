"""The lab's monitor attaches to a lab from the plan `up` wrote, and starts light."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from emulator.core import labdir as labdir_module
from emulator.core.labdir import LabDir, LabState
from emulator.lab import monitor
from emulator.plan import planfile
from emulator.plan.resolve import resolve
from emulator.runtime.lag.ovs import OvsLagDriver
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]


def _lab(tmp_path, monkeypatch, lag_driver: str, with_plan: bool):
    monkeypatch.setattr(labdir_module, "RUN_ROOT", tmp_path)
    plan = resolve(load(ROOT / "topologies" / "seattle.yaml"), ROOT / "topologies")
    d = LabDir(plan.lab)
    d.path.mkdir(parents=True)
    d.write_state(LabState(plan.lab, str(ROOT / "topologies" / "seattle.yaml"), "netns",
                           lag_driver=lag_driver))
    if with_plan:
        (d.path / planfile.FILE_NAME).write_text(json.dumps(planfile.to_dict(plan)))
    return plan


def test_the_monitor_reads_the_plan_up_wrote(tmp_path, monkeypatch):
    plan = _lab(tmp_path, monkeypatch, "openvswitch", with_plan=True)
    watched = monitor.attach(plan.lab)
    assert watched.plan == plan
    assert isinstance(watched.driver, OvsLagDriver)
    assert monitor.interval(watched) == monitor.INTERVAL


def test_without_that_plan_it_opens_the_lab_as_any_command_does(tmp_path, monkeypatch):
    plan = _lab(tmp_path, monkeypatch, "openvswitch", with_plan=False)
    (LabDir(plan.lab).path / "topology.yaml").write_text(
        (ROOT / "topologies" / "seattle.yaml").read_text())
    opened = []
    monkeypatch.setattr("emulator.lab.lifecycle.open_lab",
                        lambda name: opened.append(name) or _Opened(plan))
    assert monitor.attach(plan.lab).plan is plan and opened == [plan.lab]


class _Opened:
    def __init__(self, plan):
        self.plan, self.dir, self.driver = plan, None, None


def test_the_monitor_imports_no_topology_loader_router_readers_or_netlink_library():
    code = ("import sys, emulator.lab.monitor; print(sorted({m.split('.')[0] if m.startswith("
            "'pyroute2') else m for m in sys.modules if m.startswith(('pyroute2', "
            "'emulator.topology', 'emulator.nodes', 'emulator.lab.lifecycle', 'pydantic'))}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
