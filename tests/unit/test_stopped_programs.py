"""A router program that died is named (status, check) and restarted (recover), without root:
pid files in a temporary lab directory, this test's own pid standing for a live program."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from emulator.core.labdir import LabDir
from emulator.judge import checks
from emulator.judge.verdict import Verdict
from emulator.nodes import liveness
from emulator.observe import observers as observe
from emulator.observe import status
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


class SilentHost(observe.LocalHost):
    """This machine's files, and router programs that answer nothing (their control socket is
    gone with them)."""

    def run(self, node, argv, check=True, timeout=30.0):
        return subprocess.CompletedProcess(list(argv), 1, "", "no socket")


@dataclass
class PidLab:
    plan: Plan
    dir: LabDir
    host: object = field(default_factory=SilentHost)
    runtime: object = None
    driver: object = None

    def node_dir(self, node: str) -> Path:
        d = self.dir.node(node)
        d.mkdir(parents=True, exist_ok=True)
        return d


def _lab(tmp_path) -> PidLab:
    labdir = LabDir("unit", root=tmp_path)
    labdir.path.mkdir(parents=True)
    return PidLab(PLAN, labdir)


def test_a_pid_file_naming_no_process_is_a_stopped_program(tmp_path):
    lab = _lab(tmp_path)
    d = lab.node_dir("sea-pr1")
    (d / "zebra.pid").write_text(f"{os.getpid()}\n")
    (d / "bgpd.pid").write_text(f"{dead_pid()}\n")
    found = liveness.programs(lab.host, PLAN, "sea-pr1", d)
    assert [(p.name, p.running) for p in found] == [("zebra", True), ("bgpd", False)]
    assert [p.name for p in observe.stopped_programs(PLAN, lab.node_dir, lab.host)] == ["bgpd"]
    # No pid file yet (not started) is no finding.
    assert liveness.programs(lab.host, PLAN, "sea-pr2", lab.node_dir("sea-pr2")) == []


def test_an_edge_runs_one_exabgp_for_its_links_and_the_internet(tmp_path):
    lab = _lab(tmp_path)
    d = lab.node_dir("sea-ms1")
    found = liveness.pid_files(PLAN, "sea-ms1", d)
    assert [(name, path.relative_to(d).as_posix(), what) for name, path, what in found] == [
        ("exabgp", "exabgp/exabgp.pid", "")]


def test_sessions_of_a_router_whose_bgpd_died_say_so_not_unknown(tmp_path):
    lab = _lab(tmp_path)
    d = lab.node_dir("sea-pr1")
    (d / "zebra.pid").write_text(f"{os.getpid()}\n")
    (d / "bgpd.pid").write_text(f"{dead_pid()}\n")
    states = observe.node_sessions(PLAN, "sea-pr1", d, lab.host)
    assert {s.state for s in states} == {"bgpd stopped"}
    # A router whose programs run but say nothing is still "Unknown", as before.
    (d / "bgpd.pid").write_text(f"{os.getpid()}\n")
    assert {s.state for s in observe.node_sessions(PLAN, "sea-pr1", d, lab.host)} == {"Unknown"}


def test_status_names_the_stopped_program(tmp_path):
    lab = _lab(tmp_path)
    (lab.node_dir("fabrikam") / "bird.pid").write_text(f"{dead_pid()}\n")
    stopped = observe.stopped_programs(PLAN, lab.node_dir, lab.host)
    table = status.status_table(status.Status("unit", "openvswitch", [], [], {}, [], stopped))
    assert "Programs not running (`mapslab recover unit` restarts them)" in table
    assert f"  fabrikam: bird not running (pid {stopped[0].pid} in bird.pid)" in table
    assert status.status_json(status.Status("unit", "openvswitch", [], [], {}, [], stopped))[
        "stopped_programs"][0]["name"] == "bird"


def test_check_names_the_stopped_program_in_every_failed_verdict(tmp_path, monkeypatch):
    lab = _lab(tmp_path)
    monkeypatch.setattr(checks, "CHECKS", {
        "good": lambda lab: Verdict("good", True, "fine", ("ok",)),
        "bad": lambda lab: Verdict("bad", False, "broken", ("a session is down",))})
    assert [v.evidence for v in checks.run_all(lab)] == [("ok",), ("a session is down",)]
    (lab.node_dir("sea-pr2") / "bgpd.pid").write_text(f"{dead_pid()}\n")
    good, bad = checks.run_all(lab)
    assert good.evidence == ("ok",)
    assert bad.evidence[0].startswith("sea-pr2: bgpd not running (pid ")
    assert bad.evidence[0].endswith("`mapslab recover seattle` restarts it")
    assert bad.evidence[1:] == ("a session is down",)


@dataclass
class RestartingRuntime:
    """Runs nothing; a started BIRD is this process (its pid written where bird -P says)."""

    runs: list = field(default_factory=list)

    def run(self, node, argv, check=True, timeout=30.0):
        self.runs.append((node, list(argv)))
        if argv[0] == "bird":
            Path(argv[argv.index("-P") + 1]).write_text(f"{os.getpid()}\n")
        return subprocess.CompletedProcess(list(argv), 0, "", "")


def test_recover_restarts_a_program_that_died_and_waits_until_it_runs(tmp_path):
    from emulator.lab import revive
    lab = _lab(tmp_path)
    lab.runtime = RestartingRuntime()
    (lab.node_dir("fabrikam") / "bird.pid").write_text(f"{dead_pid()}\n")
    restarted = revive.restart_stopped(lab)
    assert [(p.node, p.name) for p in restarted] == [("fabrikam", "bird")]
    assert [(node, argv[0]) for node, argv in lab.runtime.runs] == [("fabrikam", "bird")]
    assert observe.stopped_programs(PLAN, lab.node_dir, lab.host) == []
    assert revive.restart_stopped(lab) == [] and len(lab.runtime.runs) == 1


@dataclass
class RestartingLagDriver:
    """Open vSwitch's pid files (emulator.runtime.lag.ovs), a restart that writes this process's
    pid into them, and the order of what it was asked to do."""

    node_dir: object
    calls: list = field(default_factory=list)

    def programs(self, node):
        from emulator.runtime.lag.ovs import OvsLagDriver
        return OvsLagDriver.programs(self, node)

    def restart(self, node, lags):
        self.calls.append(("restart", node.name, [lag.name for lag in lags]))
        for _, path in self.programs(node.name):
            path.write_text(f"{os.getpid()}\n")


def _ovs_pids(lab, node: str, ovsdb: int, vswitchd: int) -> None:
    d = lab.node_dir(node) / "ovs"
    d.mkdir(exist_ok=True)
    (d / "ovsdb.pid").write_text(f"{ovsdb}\n")
    (d / "vswitchd.pid").write_text(f"{vswitchd}\n")


def test_a_dead_ovs_vswitchd_is_a_stopped_lacp_program_named_by_status_and_check(
        tmp_path, monkeypatch):
    lab = _lab(tmp_path)
    lab.driver = RestartingLagDriver(lab.node_dir)
    _ovs_pids(lab, "sea-pr1", os.getpid(), dead_pid())
    stopped = observe.stopped_programs(PLAN, lab.node_dir, lab.host, lab.driver)
    assert [(p.node, p.name, p.what) for p in stopped] == [
        ("sea-pr1", "ovs-vswitchd", observe.LACP)]
    assert stopped[0].describe().startswith("sea-pr1: ovs-vswitchd (LACP) not running (pid ")
    # Without the LAG driver (a caller that reads routers only) it is not looked for.
    assert observe.stopped_programs(PLAN, lab.node_dir, lab.host) == []
    # A node without LAGs has no LACP program, whatever files its folder holds.
    _ovs_pids(lab, "fabrikam", dead_pid(), dead_pid())
    assert observe.lacp_programs(PLAN, "fabrikam", lab.driver, lab.host) == []
    table = status.status_table(status.Status("unit", "openvswitch", [], [], {}, [], stopped))
    assert "  sea-pr1: ovs-vswitchd (LACP) not running (pid" in table
    monkeypatch.setattr(checks, "CHECKS", {
        "bad": lambda lab: Verdict("bad", False, "broken", ("a LAG is down",))})
    bad, = checks.run_all(lab)
    assert bad.evidence[0].startswith("sea-pr1: ovs-vswitchd (LACP) not running")


def test_a_kernel_bond_has_no_lacp_program_to_die():
    from emulator.runtime.lag.bond import BondLagDriver
    assert BondLagDriver(lambda node: None, lambda *a: None).programs("sea-pr1") == []


def test_recover_restarts_lacp_first_with_bgp_out_of_the_edges_until_each_lag_is_up(
        tmp_path, monkeypatch):
    """The edge's link BGP is taken out before the node's LAGs are rebuilt and given back by
    the edge automation after (which waits for each LAG): never BGP ahead of LACP."""
    from emulator.lab import revive
    lab = _lab(tmp_path)
    lab.driver = RestartingLagDriver(lab.node_dir)
    lab.runtime = RestartingRuntime()
    monkeypatch.setattr(revive, "edge_unconfigures_bgp",
                        lambda lab_, lag: lab.driver.calls.append(("bgp-out", lag.name)))
    monkeypatch.setattr(revive, "edge_automation",
                        lambda lab_, lag: lab.driver.calls.append(("automation", lag.name)))
    _ovs_pids(lab, "sea-ms1", dead_pid(), dead_pid())
    (lab.node_dir("fabrikam") / "bird.pid").write_text(f"{dead_pid()}\n")
    restarted = revive.restart_stopped(lab)
    assert sorted((p.node, p.name) for p in restarted) == [
        ("fabrikam", "bird"), ("sea-ms1", "ovs-vswitchd"), ("sea-ms1", "ovsdb-server")]
    links = [lag.name for lag in PLAN.lags_of("sea-ms1")]
    assert lab.driver.calls == ([("bgp-out", name) for name in links]
                                + [("restart", "sea-ms1", links)]
                                + [("automation", name) for name in links])
    assert [argv[0] for _, argv in lab.runtime.runs] == ["bird"]
    assert observe.stopped_programs(PLAN, lab.node_dir, lab.host, lab.driver) == []
