"""A containerlab lab brought up by `mapslab up --runtime containerlab`, then attached again by
`mapslab status` and `mapslab check` (the functions `mapslab test` calls) through `docker exec`,
without Docker: every command is answered from recordings (fixtures/attached/README.md)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from emulator.cli import main as cli
from emulator.core import labdir as labdir_module
from emulator.core import wait
from emulator.core.errors import LabStateError, NoSuchLab, RuntimeUnavailable, WaitTimeout
from emulator.core.labdir import LabDir, LabState
from emulator.judge import checks
from emulator.lab import lifecycle
from emulator.nodes import bird, frr
from emulator.observe import status
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.runtime.containerlab import attached, deploy
from emulator.runtime.containerlab.host import ContainerlabRuntime
from emulator.topology.loader import load
from tests.conftest import ROOT
from tests.containerlab.conftest import FIXTURES_DIR

LAB = "seattle"
RECORDED = FIXTURES_DIR / "attached"
BIRD_RECORDED = ROOT / "tests" / "fixtures" / "nodes" / "bird"
FRR_DIR, BIRD_DIR, STATE_DIR = Path("/var/run/frr"), Path("/run/bird"), "/var/lib/maps-lab"
BIRD_FILES = {"show protocols all": "birdc-show-protocols-all.txt",
              f"show route table master4 {bird.BGP_TABLE}": "birdc-show-route-master4.txt",
              f"show route table master6 {bird.BGP_TABLE}": "birdc-show-route-master6.txt"}
FRR_FILES = {"show bgp neighbors json": "frr-sea-pr2-show-bgp-neighbors.json",
             "show bgp summary json": "frr-sea-pr2-show-bgp-summary.json",
             "show bgp ipv4 unicast json": "frr-sea-pr2-show-bgp-ipv4-unicast.json",
             "show bgp ipv6 unicast json": "frr-sea-pr2-show-bgp-ipv6-unicast.json"}


class RecordedDocker:
    """subprocess.run on a host with Docker and containerlab: the deployment's own commands
    succeed; `docker exec clab-seattle-<node> ...` is answered from the recordings. Remembers
    every argv, and those it had no recording for."""

    def __init__(self, sea_pr2: str, no_limit: bool = False):
        self.routers = {"sea-pr1": ("bird", BIRD_RECORDED / "steady")}
        self.routers["sea-pr2"] = (("bird", BIRD_RECORDED / "over-limit") if sea_pr2 == "bird"
                                   else ("frr", RECORDED))
        self.no_limit = no_limit
        self.edges = {"sea-ms1": "sea-ms1", "sea-ms2": "sea-ms2"}     # node → recording
        self.asked: list[list[str]] = []
        self.unanswered: list[list[str]] = []

    def answer(self, node: str, argv: list[str]) -> str | None:
        if argv[0] in ("nft", "tc"):
            return ""                              # no firewall rule, no shaper configured
        if argv[0] == "cat" and argv[1].startswith("/proc/net/bonding/"):
            bond = argv[1].rsplit("/", 1)[1]
            found = [FIXTURES_DIR / f"proc-net-bonding-{bond}-up.txt",
                     RECORDED / f"proc-net-bonding-{bond}-up.txt"]
            return next((p.read_text() for p in found if p.exists()), None)
        if node in self.edges and argv[0] == "cat":
            stem = self.edges[node]
            if argv[1] == f"{STATE_DIR}/events.jsonl":
                return (RECORDED / f"{stem}-events.jsonl").read_text()
            bond = argv[1].removeprefix(f"{STATE_DIR}/").removesuffix("/routes.json")
            path = RECORDED / f"{stem}-{bond}-routes.json"
            return path.read_text() if path.exists() else None
        program, folder = self.routers.get(node, (None, None))
        if program == "bird" and argv[:3] == bird.birdc(BIRD_DIR, "")[:3]:
            return (folder / BIRD_FILES[argv[3]]).read_text() if argv[3] in BIRD_FILES else None
        if program == "frr" and argv[:4] == frr.vtysh(FRR_DIR, "")[:4]:
            name = FRR_FILES.get(argv[4])
            if name and self.no_limit and argv[4] == "show bgp neighbors json":
                name = "frr-sea-pr2-no-limit-show-bgp-neighbors.json"
            return (folder / name).read_text() if name else None
        return None

    def __call__(self, argv, **kwargs) -> subprocess.CompletedProcess[str]:
        argv = [str(a) for a in argv]
        self.asked.append(argv)
        if argv[:2] != ["docker", "exec"]:
            # docker info, docker image inspect, containerlab deploy/destroy
            return subprocess.CompletedProcess(argv, 0, "", "")
        out = self.answer(argv[2].removeprefix(f"clab-{LAB}-"), argv[3:])
        if out is None:
            self.unanswered.append(argv)
            return subprocess.CompletedProcess(argv, 1, "", "no recording of this command")
        return subprocess.CompletedProcess(argv, 0, out, "")


def topology_file(folder: Path, sea_pr2: str) -> Path:
    """seattle with sea-pr1 on BIRD, sea-pr2 on `sea_pr2`, no internet node and the Microsoft
    prefixes the recordings' edges announced (the first 12 IPv4 and 4 IPv6 of the set)."""
    seattle = ROOT / "topologies" / "seattle.yaml"
    plan = resolve(load(seattle))
    v4 = [p for p in plan.microsoft_prefixes if ":" not in p][:12]
    v6 = [p for p in plan.microsoft_prefixes if ":" in p][:4]
    prefixes = folder / "microsoft-prefixes.txt"
    prefixes.write_text("\n".join(v4 + v6) + "\n")
    raw = yaml.safe_load(seattle.read_text())
    software = {"sea-pr1": "bird", "sea-pr2": sea_pr2}
    for router in raw["routers"]:
        router["software"] = software[router["name"]]
    raw["microsoft"] |= {"internet": False, "prefix-set": str(prefixes)}
    path = folder / "seattle.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture(autouse=True)
def run_dir(tmp_path, monkeypatch) -> Path:
    """Labs recorded under the test's own folder; the negative checks' window closed."""
    monkeypatch.setattr(labdir_module, "RUN_ROOT", tmp_path / "run")
    monkeypatch.setitem(wait.BUDGETS, "negative_window", 0.0)
    monkeypatch.setattr(deploy.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    return tmp_path / "run"


def up(tmp_path, monkeypatch, sea_pr2: str = "frr", **recorded) -> RecordedDocker:
    docker = RecordedDocker(sea_pr2, **recorded)
    monkeypatch.setattr(subprocess, "run", docker)
    topology = topology_file(tmp_path, sea_pr2)
    assert cli.main(["up", "--runtime", "containerlab", str(topology),
                     "--dir", str(tmp_path / "clab")]) == 0
    return docker


def verdicts(lab_name: str = LAB) -> dict[str, checks.Verdict]:
    with lifecycle.attached(lab_name) as lab:
        return {v.check: v for v in checks.run_all(lab)}


def test_up_records_the_lab_and_open_lab_attaches_through_docker(tmp_path, monkeypatch, run_dir):
    up(tmp_path, monkeypatch)
    state = LabDir(LAB).read_state()
    assert (state.runtime, state.lag_driver, state.phase) == ("containerlab", "kernel-bond", "up")
    assert state.topology == str(tmp_path / "clab" / "seattle.clab.yml")
    assert json.loads((run_dir / LAB / "containerlab.json").read_text()) == {
        "topology_file": str(tmp_path / "clab" / "seattle.clab.yml"),
        "out_dir": str(tmp_path / "clab")}
    assert (tmp_path / "clab" / "nodes" / "sea-pr2" / "frr" / "bgpd.conf").exists()
    lab = lifecycle.open_lab(LAB)
    assert isinstance(lab.runtime, ContainerlabRuntime) and lab.host is lab.runtime
    assert lab.driver.name == "kernel-bond"
    with pytest.raises(RuntimeUnavailable, match="built by start.sh at deploy"):
        lab.driver.start(lab.plan.node("sea-pr1"), list(lab.plan.lags_of("sea-pr1")))
    assert isinstance(lab.plan, Plan) and lab.plan.node("sea-pr2").software == "frr"
    assert lab.node_dir("sea-pr1") == BIRD_DIR and lab.node_dir("sea-pr2") == FRR_DIR
    assert lab.node_dir("sea-ms1") == Path(STATE_DIR)
    assert not list((run_dir / LAB).glob("nodes"))          # nothing of the nodes on this host


def test_status_reads_lags_sessions_prefixes_and_edges_in_the_containers(tmp_path, monkeypatch,
                                                                         capsys):
    up(tmp_path, monkeypatch)
    capsys.readouterr()
    assert cli.main(["status", LAB, "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["lag_driver"] == "kernel-bond"
    assert [(lag["lag"], lag["peer_side"]["up"], lag["edge_side"]["up"]) for lag in found["lags"]] \
        == [("sea-1-a", True, True), ("sea-1-b", True, True)]
    assert [m["ifname"] for m in found["lags"][1]["edge_side"]["members"]] == ["lag1m1", "lag1m2"]
    interconnect = {(s["node"], s["peer_address"]): (s["state"], s["prefixes_received"])
                    for s in found["sessions"] if s["interconnect"]}
    assert interconnect == {("sea-pr1", "198.18.0.1"): ("Established", 12),
                            ("sea-pr1", "2001:db8:ffff::1"): ("Established", 4),
                            ("sea-pr2", "198.18.0.3"): ("Established", 12),
                            ("sea-pr2", "2001:db8:ffff::3"): ("Established", 4)}
    assert found["microsoft_prefixes"] == {"sea-pr1": {"ipv4": 12, "ipv6": 4},
                                           "sea-pr2": {"ipv4": 12, "ipv6": 4}}
    held = {e["lag"]: sorted(p for routes in e["peers"].values() for p in routes)
            for e in found["edges"]}
    assert held["sea-1-a"] == held["sea-1-b"] == sorted(
        ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8:100::/48",
         "2001:db8:200::/48", "2001:db8:300::/48"])


def test_every_check_passes_on_the_good_recording(tmp_path, monkeypatch, capsys):
    up(tmp_path, monkeypatch)
    found = verdicts()
    assert set(found) == set(checks.CHECKS)
    assert [v for v in found.values() if not v.passed] == []
    assert found["max-prefix"].evidence == (
        "sea-pr1 (bird) neighbor 198.18.0.1 AS8075 ipv4: prefix limit 500",
        "sea-pr1 (bird) neighbor 2001:db8:ffff::1 AS8075 ipv6: prefix limit 500",
        "sea-pr2 (frr) neighbor 198.18.0.3 AS8075 ipv4: prefix limit 500",
        "sea-pr2 (frr) neighbor 2001:db8:ffff::3 AS8075 ipv6: prefix limit 500")
    assert found["mesh-formed"].summary == "4 of 4 interconnect sessions Established"
    # the timeline joins the controller's record with the edges' own, read in their containers
    assert "4 session start(s) with the LAG up, 0 without" == found["lag-before-bgp"].summary
    capsys.readouterr()
    assert cli.main(["check", LAB]) == 0
    # a baseline of the lab, and the same lab judged against it: no difference
    baseline = tmp_path / "baseline.json"
    assert cli.main(["record", LAB, "--out", str(baseline)]) == 0
    assert json.loads(baseline.read_text())["prefix_counts"]["sea-pr2"] == {"ipv4": 12, "ipv6": 4}
    assert cli.main(["check", LAB, "--against", str(baseline)]) == 0


def test_a_session_down_fails_the_mesh_and_the_prefix_checks(tmp_path, monkeypatch, capsys):
    docker = up(tmp_path, monkeypatch, sea_pr2="bird")
    # After the turn-up sea-pr2's limit shut its IPv4 session to sea-ms2 (BIRD's recording),
    # and the edge recorded the Cease and the session down.
    docker.edges["sea-ms2"] = "sea-ms2-down"
    found = verdicts()
    failed = sorted(name for name, v in found.items() if not v.passed)
    assert failed == ["both-families", "mesh-formed", "microsoft-prefixes",
                      "no-leak-to-microsoft", "peer-prefixes"]
    assert found["mesh-formed"].evidence[0] == "sea-1-b-v4 sea-pr2 → sea-ms2 198.18.0.3: Idle"
    assert found["microsoft-prefixes"].evidence[0] == (
        "sea-pr2 session sea-1-b-v4 from sea-ms2 198.18.0.3: Idle, 0/12 received")
    assert found["peer-prefixes"].evidence[0] == (
        "sea-ms2 (sea-1-b): 3/6, missing ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']")
    assert found["max-prefix"].passed
    capsys.readouterr()
    assert cli.main(["check", LAB]) == 3


def test_a_microsoft_session_without_a_limit_fails_max_prefix(tmp_path, monkeypatch):
    up(tmp_path, monkeypatch, sea_pr2="frr", no_limit=True)
    found = verdicts()
    assert [name for name, v in found.items() if not v.passed] == ["max-prefix"]
    assert found["max-prefix"].evidence[:2] == (
        "sea-pr2 (frr) neighbor 198.18.0.3 AS8075 ipv4: no prefix limit (the page: set max "
        "prefix 400-500)",
        "sea-pr2 (frr) neighbor 2001:db8:ffff::3 AS8075 ipv6: no prefix limit (the page: set "
        "max prefix 400-500)")


def test_every_command_on_the_lab_is_docker_exec_in_its_nodes_container(tmp_path, monkeypatch):
    docker = up(tmp_path, monkeypatch)
    deployed = len(docker.asked)
    with lifecycle.attached(LAB) as lab:
        status.status(lab)
        checks.run_all(lab)
    asked = docker.asked[deployed:]
    containers = {f"clab-{LAB}-{n.name}" for n in lab.plan.nodes}
    assert asked and all(a[:2] == ["docker", "exec"] and a[2] in containers for a in asked)
    for argv in (["docker", "exec", "clab-seattle-sea-pr1", "birdc", "-s", "/run/bird/bird.ctl",
                  "show protocols all"],
                 ["docker", "exec", "clab-seattle-sea-pr2", "vtysh", "--vty_socket",
                  "/var/run/frr", "-c", "show bgp neighbors json"],
                 ["docker", "exec", "clab-seattle-sea-pr2", "cat", "/proc/net/bonding/lag1"],
                 ["docker", "exec", "clab-seattle-sea-ms2", "cat", "/proc/net/bonding/lag1"],
                 ["docker", "exec", "clab-seattle-sea-ms1", "cat",
                  "/var/lib/maps-lab/lag0/routes.json"],
                 ["docker", "exec", "clab-seattle-sea-ms1", "cat",
                  "/var/lib/maps-lab/events.jsonl"],
                 ["docker", "exec", "clab-seattle-sea-pr1", "nft", "list", "ruleset"]):
        assert argv in asked
    # Only the members' BIRD is not in the recordings (status reads it; no check does).
    assert {a[2] for a in docker.unanswered} <= {"clab-seattle-fabrikam", "clab-seattle-tailspin"}


def test_down_removes_the_record(tmp_path, monkeypatch, run_dir):
    up(tmp_path, monkeypatch)
    assert cli.main(["down", "--runtime", "containerlab",
                     str(tmp_path / "clab" / "seattle.clab.yml")]) == 0
    assert not (run_dir / LAB).exists()
    with pytest.raises(NoSuchLab):
        lifecycle.open_lab(LAB)


def test_down_by_the_lab_name_finds_its_rendered_topology(tmp_path, monkeypatch, run_dir):
    docker = up(tmp_path, monkeypatch)
    assert cli.main(["down", "--runtime", "containerlab", LAB]) == 0
    assert docker.asked[-1] == deploy.destroy_argv(tmp_path / "clab" / "seattle.clab.yml")
    assert not (run_dir / LAB).exists()


def test_a_failed_deployment_leaves_no_record(tmp_path, monkeypatch, run_dir):
    docker = RecordedDocker("frr")
    docker.edges["sea-ms2"] = "sea-ms2-down"              # never Established: up gives up
    monkeypatch.setattr(subprocess, "run", docker)
    monkeypatch.setitem(wait.BUDGETS, "ebgp_session", 0.01)
    plan = resolve(load(topology_file(tmp_path, "frr")))
    with pytest.raises(WaitTimeout, match="ebgp_session"):
        deploy.DEPLOYMENT.up(plan, tmp_path / "clab")
    assert docker.asked[-1][:2] == ["containerlab", "destroy"]
    assert not (run_dir / LAB).exists()


def test_a_lab_of_that_name_on_another_runtime_is_not_overwritten(tmp_path, run_dir):
    LabDir(LAB).write_state(LabState(LAB, "seattle.yaml", "netns"))
    plan = resolve(load(topology_file(tmp_path, "frr")))
    with pytest.raises(LabStateError, match="already up on the netns runtime"):
        attached.claim(LabDir(LAB), plan, tmp_path / "clab")
    assert not attached.forget(LAB)
    assert LabDir(LAB).read_state().runtime == "netns"
