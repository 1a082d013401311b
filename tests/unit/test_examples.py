"""The shipped examples: every topology under topologies/ loads and validates, every `config:`
file it names exists and passes its program's own syntax check, every broken/ topology names
the check it must fail, and the hand-written configurations set up what the contract asks.

No root needed: the syntax checks (`vtysh -C`, `bird -p`, `bgpd -n`, `gobgpd --dry-run`) only
parse; a test whose program is not installed here is skipped, saying which.
"""
from __future__ import annotations

import ipaddress
import re
import shutil
from pathlib import Path

import pytest

from emulator.judge.checks import CHECKS
from emulator.nodes import preflight
from emulator.plan.contract import contracts
from emulator.plan.resolve import config_path, resolve
from emulator.topology.loader import load_with_lines
from emulator.topology.validate import validate
from tests.conftest import ROOT

TOPOLOGIES = ROOT / "topologies"
SHIPPED = sorted(TOPOLOGIES.rglob("*.yaml"))
BROKEN = sorted((TOPOLOGIES / "broken").glob("*.yaml"))
WORKING = [p for p in SHIPPED if p not in BROKEN]
# The program each software's syntax check runs (emulator.nodes.*.check_config).
CHECKER = {"frr": "vtysh", "bird": "bird", "openbgpd": "bgpd", "gobgp": "gobgpd"}


def _id(path: Path) -> str:
    return str(path.relative_to(TOPOLOGIES))


def _declared_configs(path: Path) -> list[tuple[str, str, Path]]:
    """(node, software, file) for every node of the topology that runs the user's own file."""
    topo, _ = load_with_lines(path)
    nodes = [(r.name, r.software, r.config) for r in topo.routers]
    nodes.append((topo.exchange.route_server.name, topo.exchange.route_server.software,
                  topo.exchange.route_server.config))
    nodes += [(m.name, m.software, m.config) for m in topo.exchange.members]
    return [(name, software, Path(config_path(config, path.resolve().parent)))
            for name, software, config in nodes if config]


def test_the_examples_are_there():
    names = {_id(p) for p in SHIPPED}
    assert {"seattle.yaml", "seattle-own-routers.yaml", "seattle-gobgp.yaml"} <= names
    assert len(BROKEN) >= 6, [p.name for p in BROKEN]


@pytest.mark.parametrize("path", SHIPPED, ids=_id)
def test_topology_loads_and_validates_without_errors(path):
    topo, lines = load_with_lines(path)
    report = validate(topo, lines)
    assert report.ok, [f"{f.path}: {f.message}" for f in report.errors]


@pytest.mark.parametrize("path", [p for p in SHIPPED if _declared_configs(p)], ids=_id)
def test_configuration_files_exist_and_pass_the_programs_own_check(path):
    declared = _declared_configs(path)
    for node, software, file in declared:
        assert file.is_file(), f"{node}: {file} does not exist"
    missing = sorted({CHECKER.get(s, s) for _, s, _ in declared
                      if shutil.which(CHECKER.get(s, s)) is None})
    if missing:
        pytest.skip(f"not installed here: {', '.join(missing)} (the program's own syntax check)")
    topo, lines = load_with_lines(path)
    problems = preflight.problems(topo, lines, path.resolve().parent)
    assert problems == [], [f"{p.path} (line {p.line}): {p.message}" for p in problems]


@pytest.mark.parametrize("path", BROKEN, ids=_id)
def test_broken_topology_names_the_check_it_must_fail(path):
    first = path.read_text().splitlines()[0]
    found = re.fullmatch(r"# expect: (\S+)", first)
    assert found, f"{path.name}: the first line must be '# expect: CHECK', not {first!r}"
    assert found.group(1) in CHECKS, f"{path.name}: no check named {found.group(1)!r}; " \
                                     f"one of {', '.join(CHECKS)}"
    # The second line says what the mistake is, for the trainee and for docs/own-routers.md.
    assert path.read_text().splitlines()[1].startswith("# ")


def test_broken_topologies_have_labs_of_their_own():
    labs = [re.search(r"^lab: (\S+)", p.read_text(), re.M).group(1) for p in SHIPPED]
    assert len(labs) == len(set(labs)), sorted(labs)


@pytest.mark.parametrize("path, software", [("seattle-own-routers.yaml", {"bird", "openbgpd"}),
                                            ("seattle-gobgp.yaml", {"bird", "gobgp"})])
def test_own_router_examples_run_hand_written_files_on_other_programs(path, software):
    declared = _declared_configs(TOPOLOGIES / path)
    assert {s for node, s, _ in declared} == software
    assert {node for node, _, _ in declared} == {"sea-pr1", "sea-pr2"}
    for _, _, file in declared:
        assert file.parent == TOPOLOGIES / "configs"
        assert "made by maps-lab" not in file.read_text(), f"{file.name} is the lab's rendering"


@pytest.mark.parametrize("path", ["seattle-own-routers.yaml", "seattle-gobgp.yaml"])
def test_own_router_examples_are_seattle_with_other_routers(path):
    """Same interconnect as seattle.yaml: only the lab's name and the routers' programs differ."""
    base, _ = load_with_lines(TOPOLOGIES / "seattle.yaml")
    own, _ = load_with_lines(TOPOLOGIES / path)
    unchanged = {"routers", "lab"}
    assert own.model_dump(exclude=unchanged) == base.model_dump(exclude=unchanged)
    strip = {"software", "config"}
    assert ([r.model_dump(exclude=strip) for r in own.routers]
            == [r.model_dump(exclude=strip) for r in base.routers])


def _addresses(text: str) -> set[str]:
    """Every IP address a configuration sets (comments left out: `#`, and FRR's `!`), normalized."""
    found = set()
    settings = "\n".join(line.split("#")[0] for line in text.splitlines()
                         if not line.lstrip().startswith("!"))
    for word in re.findall(r"[0-9a-fA-F:.]+", settings):
        try:
            found.add(str(ipaddress.ip_address(word.strip(".:") if "." in word else word)))
        except ValueError:
            continue
    return found


@pytest.mark.parametrize("path", [p for p in WORKING if _declared_configs(p)], ids=_id)
def test_hand_written_configurations_set_up_every_neighbor_of_the_contract(path):
    """The contract (`mapslab contract`) is what the file must follow: every neighbor address
    and local address appears in it, so a change of the topology cannot leave it behind."""
    plan = resolve(load_with_lines(path)[0], path.resolve().parent)
    for node, _, file in _declared_configs(path):
        written = _addresses(file.read_text())
        (contract,) = contracts(plan, node)
        # A route server on one LAN may leave its source address to the program (arouteserver's
        # BIRD file does); a peer router names both ends of every session.
        missing = [f"{n.address} (from {n.local_address}, {n.purpose})"
                   for n in contract.neighbors
                   if not ({n.address} if contract.role == "route-server"
                           else {n.address, n.local_address}) <= written]
        assert not missing, f"{file.name} lacks neighbors of the contract: {missing}"
