"""Four locations: the lab comes up and passes every check, and traffic to Microsoft survives
the loss of the whole location that carries it."""
from __future__ import annotations

import pytest

from emulator.judge import checks
from emulator.judge import harness
from emulator.observe import observers as observe
from emulator.judge import traffic
from emulator.lab import lifecycle as lab_module
from emulator.plan.model import Role
from tests.integration.conftest import topology_copy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def four_locations(tmp_path_factory):
    """topologies/four-locations.yaml, up once for the module, always removed."""
    name = "itmulti"
    lab_module.down(name)
    path = topology_copy(tmp_path_factory.mktemp("topo"), name, "four-locations.yaml")
    running = lab_module.up(path)
    try:
        yield running
    finally:
        running.close()
        lab_module.down(name)
        assert lab_module.leftovers(name) == []


def test_every_location_has_its_mesh(four_locations):
    plan = four_locations.plan
    locations = {n.location for n in plan.nodes_with(Role.EDGE)}
    assert locations == {"sea", "sjc", "ash", "chi"}
    sessions = [s for s in observe.all_sessions(plan, four_locations.node_dir) if s.interconnect]
    per_location: dict[str, int] = {}
    for s in sessions:
        if s.established:
            location = plan.node(s.node).location
            per_location[location] = per_location.get(location, 0) + 1
    # Two links a location, IPv4 and IPv6 on each.
    assert per_location == {location: 4 for location in locations}, sessions


def test_all_checks_pass(four_locations):
    verdicts = checks.run_all(four_locations)
    assert [v for v in verdicts if not v.passed] == []


def test_traffic_survives_the_loss_of_the_location_carrying_it(four_locations):
    plan = four_locations.plan
    baseline = traffic.measure(four_locations)
    assert baseline.lost == 0, baseline
    # The location whose edge answers the probe now: losing any other would prove nothing.
    edge = max(baseline.responders, key=baseline.responders.get)
    location = plan.node(edge).location
    result = harness.run(four_locations, "location-down", location)
    verdict = harness.judge(result)
    assert verdict.passed, checks.render([verdict])
    elsewhere = {plan.node(e).location for e in result.traffic.responders} - {location}
    assert elsewhere, f"no edge outside {location} answered: {result.traffic.responders}"
    # Recovered: the lab passes every check again.
    assert [v for v in checks.run_all(four_locations) if not v.passed] == []
