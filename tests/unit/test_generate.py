"""Generated and example multi-location topologies: valid by every rule of the page, with
backups at another location than their primaries."""
from __future__ import annotations

import pytest
import yaml

from emulator.topology.generate import MAX_LOCATIONS, generate, topology
from emulator.topology.intent import Topology
from emulator.topology.loader import load
from emulator.plan.model import Role
from emulator.plan.resolve import resolve
from emulator.topology.validate import validate
from tests.conftest import ROOT


def _geo_redundant(topo: Topology) -> None:
    """Every location has a connection; each backup is at another location than its primary;
    every connection has one bandwidth."""
    by_name = {c.name: c for c in topo.connections}
    assert {c.location for c in topo.connections} == {loc.name for loc in topo.locations}
    backups = [c for c in topo.connections if c.role == "backup"]
    assert backups
    for backup in backups:
        assert by_name[backup.backup_of].role == "primary"
        assert by_name[backup.backup_of].location != backup.location
    assert len({c.bandwidth_gbps for c in topo.connections}) == 1


@pytest.mark.parametrize("locations", [1, 2, 4, 10, MAX_LOCATIONS])
def test_generated_topology_is_valid_and_resolves(locations, tmp_path):
    path = tmp_path / "gen.yaml"
    path.write_text(generate(locations, f"gen{locations}"))
    topo = load(path)
    report = validate(topo)
    assert report.errors == ()
    plan = resolve(topo)
    assert len(plan.nodes_with(Role.PEER_ROUTER)) == 2 * locations
    assert len(plan.nodes_with(Role.EDGE)) == 2 * locations
    assert len(plan.lags) == 2 * locations
    if locations > 1:
        _geo_redundant(topo)


def test_generated_yaml_is_the_typed_topology():
    assert Topology.model_validate(yaml.safe_load(generate(4, "gen"))) == topology(4, "gen")


@pytest.mark.parametrize("locations", [0, MAX_LOCATIONS + 1])
def test_location_count_is_bounded(locations):
    with pytest.raises(ValueError, match="locations must be"):
        generate(locations, "gen")


def test_lab_name_is_checked():
    with pytest.raises(ValueError, match="lab name"):
        generate(2, "Not-A-Lab")


@pytest.mark.parametrize("name", ["two-locations", "four-locations"])
def test_example_topologies_are_geo_redundant(name):
    topo = load(ROOT / "topologies" / f"{name}.yaml")
    assert validate(topo).errors == ()
    _geo_redundant(topo)
