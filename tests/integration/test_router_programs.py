"""Each router program as the peer routers (FRR is covered by the other integration tests): both
peer routers on BIRD 2, OpenBGPD or GoBGP with the lab-made configuration, then the sessions,
the Microsoft prefix counts, every check and one failover under traffic, all read through the
program's own interface. And the shipped examples with hand-written configurations, judged by
`mapslab demo` as a user would run it."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.judge import checks, harness, scenarios, traffic
from emulator.lab import lifecycle as lab_module
from emulator.nodes.base import far_end
from emulator.observe import observers as observe
from emulator.plan.model import Role
from tests.conftest import ROOT
from tests.integration.conftest import lab_named, topology_copy

pytestmark = pytest.mark.integration

MAPSLAB = str(Path(sys.executable).with_name("mapslab"))
# Program → the lab's name while it runs (unique to this module).
LABS = {"bird": "itbird", "openbgpd": "itobgp", "gobgp": "itgobgp"}
# Microsoft's default prefix set (microsoft.prefix-set: microsoft-prefixes.txt), per family.
DEFAULT_MICROSOFT = {"ipv4": 280, "ipv6": 35}


def _on_program(tmp_path: Path, lab: str, software: str) -> Path:
    """topologies/seattle.yaml under another lab name, both peer routers on `software` with the
    lab-made configuration."""
    path = topology_copy(tmp_path, lab)
    text, changed = re.subn(r"^(    software: )frr$", rf"\g<1>{software}", path.read_text(),
                            flags=re.M)
    assert changed == 2, "seattle.yaml no longer has two FRR peer routers"
    path.write_text(text)
    return path


@pytest.fixture(scope="module", params=sorted(LABS))
def program_lab(request, tmp_path_factory):
    software = request.param
    name = LABS[software]
    path = _on_program(tmp_path_factory.mktemp(name), name, software)
    with lab_named(name, path) as running:
        yield running


def _peer_routers(lab):
    return lab.plan.nodes_with(Role.PEER_ROUTER)


def test_peer_routers_run_the_program_and_answer_through_its_own_interface(program_lab):
    software = next(s for s, lab in LABS.items() if lab == program_lab.plan.lab)
    assert {n.software for n in _peer_routers(program_lab)} == {software}
    for node in _peer_routers(program_lab):
        view = observe.router_view(program_lab.plan, node.name, program_lab.node_dir(node.name))
        assert view.answered and view.software == software, view
        # Every planned session of the router is one the program itself reports.
        planned = {far_end(s, node.name)[0] for s in program_lab.plan.sessions_of(node.name)}
        assert planned <= {n.address for n in view.neighbors}, view


def test_every_interconnect_session_is_established(program_lab):
    sessions = observe.all_sessions(program_lab.plan, program_lab.node_dir)
    interconnect = [s for s in sessions if s.interconnect]
    assert len(interconnect) == sum(1 for s in program_lab.plan.sessions if s.interconnect)
    down = [f"{s.node} {s.session} {s.peer_address}: {s.state}" for s in sessions
            if not s.established]
    assert not down, down


def test_microsoft_prefix_counts_at_each_peer_router(program_lab):
    plan = program_lab.plan
    v4 = sum(1 for p in plan.microsoft_prefixes if ":" not in p)
    want = {"ipv4": v4, "ipv6": len(plan.microsoft_prefixes) - v4}
    assert want == DEFAULT_MICROSOFT, "the default Microsoft prefix set changed"
    for node in _peer_routers(program_lab):
        counts = observe.microsoft_prefix_count(plan, node.name, program_lab.node_dir(node.name))
        assert counts == want, f"{node.name} ({node.software}): {counts}, expected {want}"


def test_every_check_passes(program_lab):
    verdicts = checks.run_all(program_lab)
    assert [v.check for v in verdicts] == list(checks.CHECKS)
    failed = [v for v in verdicts if not v.passed]
    assert not failed, checks.render(failed)


def test_link_loss_moves_traffic_to_the_other_link(program_lab):
    """lag-down on the link that carries the probe: the other peer router takes the traffic
    within the hold time, and everything is back after recovery."""
    baseline = traffic.measure(program_lab, count=100, rate=100)
    assert baseline.lost == 0, baseline
    edge = max(baseline.responders, key=baseline.responders.get)
    carrying = next(lag for lag in program_lab.plan.lags if lag.b_node == edge)
    try:
        result = harness.run(program_lab, "lag-down", carrying.name)
    finally:
        if scenarios.active(program_lab):      # harness.run stopped before its own recovery
            scenarios.recover(program_lab)
    verdict = harness.judge(result)
    assert verdict.passed, f"{verdict.summary}; " + "; ".join(verdict.evidence)
    other = {lag.b_node for lag in program_lab.plan.lags} - {edge}
    assert other & set(result.traffic.responders), result.traffic.responders
    assert result.after_recovery.lost == 0, result.after_recovery
    sessions = observe.all_sessions(program_lab.plan, program_lab.node_dir)
    assert all(s.established for s in sessions), [s for s in sessions if not s.established]


# --- The shipped examples with hand-written configurations -----------------------------------

# Example → (the lab's name while it runs, the peer routers' programs as `up` names them).
EXAMPLES = {"seattle-own-routers.yaml": ("itownrouters", "BIRD/OpenBGPD"),
            "seattle-gobgp.yaml": ("itowngobgp", "BIRD/GoBGP")}


def _example_copy(tmp_path: Path, source: str, lab: str) -> Path:
    """The example under a lab name of this test's own, beside a link to topologies/configs so
    that its `config:` paths (relative to the topology file) name the shipped files."""
    (tmp_path / "configs").symlink_to(ROOT / "topologies" / "configs")
    return topology_copy(tmp_path, lab, source)


@pytest.mark.parametrize("source", sorted(EXAMPLES))
def test_shipped_own_router_example_passes_every_check(tmp_path, source):
    lab, programs = EXAMPLES[source]
    path = _example_copy(tmp_path, source, lab)
    lab_module.down(lab)
    try:
        result = subprocess.run([MAPSLAB, "demo", str(path)], capture_output=True, text=True,
                                timeout=300)
    finally:
        lab_module.down(lab)
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    assert f"{programs} on peer routers" in result.stdout + result.stderr, output
    judged = {check: outcome for outcome, check in re.findall(r"^(PASS|FAIL)  (\S+)",
                                                               result.stdout, re.M)}
    assert judged == dict.fromkeys(checks.CHECKS, "PASS"), output
    assert lab_module.leftovers(lab) == []


def test_a_gobgp_configuration_written_in_yaml_runs_as_written(tmp_path):
    """The shipped GoBGP file, as the same settings in YAML: every check passes, so the lab
    started gobgpd on a file named for the format the user's file name says."""
    import tomllib
    import yaml
    source = ROOT / "topologies" / "configs" / "gobgp-sea-pr2.toml"
    own = tmp_path / "sea-pr2.yaml"
    own.write_text(yaml.safe_dump(tomllib.loads(source.read_text()), sort_keys=False))
    path = _example_copy(tmp_path, "seattle-gobgp.yaml", "itgobgpyaml")
    path.write_text(path.read_text().replace("config: configs/gobgp-sea-pr2.toml",
                                             f"config: {own}"))
    with lab_named("itgobgpyaml", path) as running:
        assert [(v.check, v.evidence[:2]) for v in checks.run_all(running) if not v.passed] == []
        pid = int((running.node_dir("sea-pr2") / "gobgpd.pid").read_text().split()[0])
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[argv.index(b"-f") + 1].endswith(b"/gobgpd.yaml")


def test_an_operators_integrated_frr_configuration_runs_with_its_static_routes(tmp_path):
    """An frr.conf as an operator keeps one (tests/fixtures/own-config/frr-operator-sea-pr1.conf):
    peer groups, interface blocks, and the aggregate pinned by `ip route ... Null0` with BGP's
    import check on. The lab starts staticd for it, so the aggregate is announced, and every
    check passes."""
    own = ROOT / "tests" / "fixtures" / "own-config" / "frr-operator-sea-pr1.conf"
    path = topology_copy(tmp_path, "itfrrops")
    text = path.read_text()
    first = text.index("    software: frr\n") + len("    software: frr\n")
    path.write_text(text[:first] + f"    config: {own}\n" + text[first:])
    with lab_named("itfrrops", path) as running:
        d = running.node_dir("sea-pr1")
        assert (d / "staticd.pid").exists() and not (running.node_dir("sea-pr2")
                                                      / "staticd.pid").exists()
        assert [(v.check, v.evidence[:2]) for v in checks.run_all(running) if not v.passed] == []
        # The static route is what lets `network 192.0.2.0/24` through the import check.
        table = running.runtime.run("sea-pr1", ["ip", "route", "show", "192.0.2.0/24"]).stdout
        assert "blackhole 192.0.2.0/24" in table, table
