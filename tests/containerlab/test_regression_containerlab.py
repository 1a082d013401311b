"""`mapslab test --runtime containerlab`: the lab deployed through the runtime registry's
deployment, attached as `mapslab check` attaches it, every check run, the failover scenarios
skipped (they need the lab's network namespaces), and the lab destroyed, all without Docker:
every command is answered from the recordings of test_attached.py (fixtures/attached/README.md).
"""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from emulator.cli import main as cli
from emulator.core import labdir as labdir_module
from emulator.core import wait
from emulator.judge import regression, traffic
from emulator.judge.checks import CHECKS
from emulator.lab import lifecycle
from emulator.plan.resolve import resolve
from emulator.runtime import netns
from emulator.runtime.containerlab import deploy
from emulator.topology.loader import load
from tests.containerlab.test_attached import LAB, RecordedDocker, topology_file

CONTAINERLAB = ["--runtime", "containerlab"]


@pytest.fixture(autouse=True)
def run_dir(tmp_path, monkeypatch) -> Path:
    """Labs recorded under the test's own folder, no namespace of any lab on this host, the
    negative checks' window closed, and Docker and containerlab installed."""
    monkeypatch.setattr(labdir_module, "RUN_ROOT", tmp_path / "run")
    monkeypatch.setattr(netns, "NETNS_DIR", tmp_path / "netns")
    monkeypatch.setitem(wait.BUDGETS, "negative_window", 0.0)
    monkeypatch.setattr(deploy.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    return tmp_path / "run"


def docker_on(monkeypatch, sea_pr2: str = "frr") -> RecordedDocker:
    docker = RecordedDocker(sea_pr2)
    monkeypatch.setattr(subprocess, "run", docker)
    return docker


def mapslab_test(tmp_path, *options: str, sea_pr2: str = "frr") -> tuple[int, Path, Path]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    junit_file, evidence_file = out / "junit.xml", out / "evidence.json"
    code = cli.main(["test", str(topology_file(tmp_path, sea_pr2)), *CONTAINERLAB, *options,
                     "--junit", str(junit_file), "--json", str(evidence_file)])
    return code, junit_file, evidence_file


def junit_cases(junit_file: Path) -> dict[str, ET.Element]:
    suite = ET.parse(junit_file).getroot().find("testsuite")
    return {case.get("name"): case for case in suite.iter("testcase")}


def outcome(case: ET.Element) -> str:
    found = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
    return found[0] if found else "passed"


def containerlab_commands(docker: RecordedDocker, verb: str) -> list[list[str]]:
    return [argv for argv in docker.asked if argv[:2] == ["containerlab", verb]]


def test_every_check_passes_and_the_lab_is_deployed_and_destroyed(tmp_path, monkeypatch, run_dir):
    docker = docker_on(monkeypatch)
    code, junit_file, evidence_file = mapslab_test(tmp_path, "--scenarios", "member-down")
    assert code == 0
    cases = junit_cases(junit_file)
    checks = {name: case for name, case in cases.items()
              if case.get("classname") == "mapslab.check"}
    assert set(checks) == set(CHECKS)
    assert {name: outcome(case) for name, case in checks.items()} == dict.fromkeys(CHECKS,
                                                                                   "passed")
    assert outcome(cases["up"]) == "passed"
    skipped = cases["member-down on the traffic path member 1"].find("skipped")
    assert "need the lab's network namespaces" in skipped.get("message")
    suite = ET.parse(junit_file).getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["runtime"] == "containerlab" and props["lab"] == LAB

    found = json.loads(evidence_file.read_text())
    assert found["passed"] is True and found["runtime"] == "containerlab"
    assert [c["name"] for c in found["checks"]] == list(CHECKS)
    assert found["scenarios"][0]["outcome"] == "skipped"
    # the observed state was read in the containers, as `mapslab status` reads it
    assert found["observed"]["lag_driver"] == "kernel-bond"
    assert found["observed"]["microsoft_prefixes"]["sea-pr2"] == {"ipv4": 12, "ipv6": 4}
    assert found["left_behind"] == [] and found["kept"] is False

    # one deploy of the rendered topology in the run's own folder, then its destroy, last
    rendered = Path(found["rendered"])
    assert containerlab_commands(docker, "deploy") == [deploy.deploy_argv(rendered)]
    assert containerlab_commands(docker, "destroy") == [deploy.destroy_argv(rendered)]
    assert docker.asked[-1] == deploy.destroy_argv(rendered)
    assert any(argv[:3] == ["docker", "exec", "clab-seattle-sea-pr2"] for argv in docker.asked)
    assert not rendered.parent.exists()             # the run's folder is gone
    assert not (run_dir / LAB).exists()             # and so is the lab's record


def test_a_session_down_fails_its_checks_with_exit_3_and_still_destroys(tmp_path, monkeypatch):
    docker = docker_on(monkeypatch, sea_pr2="bird")
    attach = lifecycle.open_lab

    def after_the_turn_up(name):
        # Once deployed, sea-pr2's prefix limit shut its IPv4 session to sea-ms2 (BIRD's
        # recording) and the edge recorded the Cease and the session down.
        docker.edges["sea-ms2"] = "sea-ms2-down"
        return attach(name)
    monkeypatch.setattr(lifecycle, "open_lab", after_the_turn_up)
    code, junit_file, evidence_file = mapslab_test(tmp_path, "--dir", str(tmp_path / "clab"),
                                                   sea_pr2="bird")
    assert code == 3
    failed = sorted(name for name, case in junit_cases(junit_file).items()
                    if outcome(case) != "passed")
    assert failed == ["both-families", "mesh-formed", "microsoft-prefixes",
                      "no-leak-to-microsoft", "peer-prefixes"]
    mesh = junit_cases(junit_file)["mesh-formed"].find("failure")
    assert "sea-1-b-v4 sea-pr2 → sea-ms2 198.18.0.3: Idle" in mesh.text
    found = json.loads(evidence_file.read_text())
    assert found["passed"] is False
    assert next(c for c in found["checks"] if c["name"] == "mesh-formed")["evidence"][0] == (
        "sea-1-b-v4 sea-pr2 → sea-ms2 198.18.0.3: Idle")
    topology = tmp_path / "clab" / "seattle.clab.yml"
    assert containerlab_commands(docker, "deploy") == [deploy.deploy_argv(topology)]
    assert docker.asked[-1] == deploy.destroy_argv(topology)


def test_keep_leaves_the_lab_deployed_for_check_and_down(tmp_path, monkeypatch, run_dir, capsys):
    docker = docker_on(monkeypatch)
    monkeypatch.chdir(tmp_path)
    code, _, evidence_file = mapslab_test(tmp_path, "--keep")
    assert code == 0
    assert "`mapslab down --runtime containerlab seattle`" in capsys.readouterr().out
    topology = tmp_path / "clab" / LAB / "seattle.clab.yml"     # where `mapslab up` renders
    assert json.loads(evidence_file.read_text())["rendered"] == str(topology)
    assert containerlab_commands(docker, "destroy") == []
    assert cli.main(["check", LAB]) == 0
    assert cli.main(["down", "--runtime", "containerlab", LAB]) == 0
    assert docker.asked[-1] == deploy.destroy_argv(topology)
    assert not (run_dir / LAB).exists()


BAD = [
    (["--runtime", "nosuch"], "--runtime 'nosuch': no such runtime; choose one of: netns, "
                              "containerlab"),
    (["--runtime", "netns", "--dir", "somewhere"], "--dir applies only to a runtime that deploys "
                                                   "a whole plan (containerlab), not to netns"),
    ([*CONTAINERLAB, "--overrides", "/nonexistent/overrides.yaml"],
     "--overrides /nonexistent/overrides.yaml: [Errno 2] No such file or directory"),
]


@pytest.mark.parametrize("options,says", BAD, ids=["runtime", "dir", "overrides"])
def test_bad_runtime_options_exit_2_naming_them_and_nothing_is_run(options, says, tmp_path,
                                                                   monkeypatch, capsys):
    docker = docker_on(monkeypatch)
    topology = topology_file(tmp_path, "frr")
    code = cli.main(["test", str(topology), *options, "--junit", str(tmp_path / "j.xml"),
                     "--json", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err
    assert docker.asked == []
    assert not (tmp_path / "j.xml").exists() and not (tmp_path / "run").exists()


def test_a_lab_already_up_by_that_name_is_refused_and_left_alone(tmp_path, monkeypatch, run_dir,
                                                                 capsys):
    docker = docker_on(monkeypatch)
    assert cli.main(["up", *CONTAINERLAB, str(topology_file(tmp_path, "frr")),
                     "--dir", str(tmp_path / "clab")]) == 0
    deployed = len(docker.asked)
    code, junit_file, _ = mapslab_test(tmp_path)
    assert code == 1 and "already up" in capsys.readouterr().err
    assert docker.asked[deployed:] == [] and not junit_file.exists()
    assert (run_dir / LAB).exists()


def test_without_docker_nothing_is_deployed(tmp_path, monkeypatch, capsys):
    docker = docker_on(monkeypatch)
    monkeypatch.setattr(deploy.shutil, "which", lambda tool: None)
    code, junit_file, _ = mapslab_test(tmp_path)
    assert code == 1 and "docker is not installed" in capsys.readouterr().err
    assert docker.asked == [] and not junit_file.exists()


def test_scenarios_run_where_the_probe_finds_the_lab_namespaces(tmp_path):
    """The harness needs the sender's namespace on this host: a lab built in namespaces has
    it; one deployed in containers has none."""
    plan = resolve(load(topology_file(tmp_path, "frr")))
    lab = SimpleNamespace(plan=plan)
    assert "network namespaces" in regression.harness_blocker(lab)
    sender = traffic.default_flow(plan).source_node
    netns.NETNS_DIR.mkdir()
    (netns.NETNS_DIR / netns.namespace(plan.lab, sender)).touch()
    assert regression.harness_blocker(lab) is None
