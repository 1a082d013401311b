"""`mapslab test` end to end, as CI runs it: a subprocess brings the lab up, judges it with every
check and one failover, tears it down, and leaves JUnit and JSON evidence that parse."""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from emulator.judge.checks import CHECKS
from emulator.lab import lifecycle
from tests.conftest import ROOT
from tests.integration.conftest import topology_copy

pytestmark = pytest.mark.integration

LAB = "itregr"


def test_a_regression_run_passes_and_leaves_nothing_behind(tmp_path):
    lifecycle.down(LAB)
    topology = topology_copy(tmp_path, LAB)
    junit_file, evidence_file = tmp_path / "junit.xml", tmp_path / "evidence.json"
    try:
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "mapslab"), "test", str(topology), "--scenarios",
             "member-down", "--junit", str(junit_file), "--json", str(evidence_file)],
            cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert lifecycle.leftovers(LAB) == []          # `mapslab test` tore it down itself

        suite = ET.parse(junit_file).getroot().find("testsuite")
        cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
        assert {name for kind, name in cases if kind == "mapslab.check"} == set(CHECKS)
        failover = [name for kind, name in cases if kind == "mapslab.failover"]
        assert len(failover) == 1 and failover[0].startswith("member-down ")
        assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
        assert int(suite.get("tests")) == len(CHECKS) + 2          # and the bring-up itself
        assert not [c for c in cases.values() if c.find("failure") is not None]

        evidence = json.loads(evidence_file.read_text())
        assert evidence["passed"] is True and evidence["lab"] == LAB
        assert evidence["degraded"] == [] and evidence["left_behind"] == []
        assert f"lab: {LAB}" in evidence["topology"]["as_tested"]
        assert {c["name"] for c in evidence["checks"]} == set(CHECKS)
        assert all(c["passed"] and c["evidence"] for c in evidence["checks"])
        assert {s["state"] for s in evidence["observed"]["sessions"]} == {"Established"}
        assert evidence["observed"]["edges"]
        (scenario,) = evidence["scenarios"]
        assert scenario["scenario"] == "member-down" and scenario["passed"]
        result = scenario["result"]
        assert result["session_drops"] == 0 and result["lag_stayed_up"] is True
        assert result["after_recovery"]["lost"] == 0
    finally:
        lifecycle.down(LAB)         # only if the run failed to
