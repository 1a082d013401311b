"""How a team writes its own regression tests with the pytest plugin (emulator.cli.pytest_plugin)."""
from __future__ import annotations

import pytest

from emulator.judge import traffic

pytestmark = [pytest.mark.integration,
              pytest.mark.mapslab(topology="topologies/seattle.yaml", lab="itplugin")]


def test_turn_up_checks(maps_check):
    for name in ("lag-before-bgp", "mesh-formed", "microsoft-prefixes", "peer-prefixes"):
        maps_check(name)


def test_ipv6_traffic_reaches_microsoft(maps_lab):
    result = traffic.measure(maps_lab, traffic.default_flow(maps_lab.plan, "ipv6"), count=100)
    assert result.lost == 0, result


def test_routers_hold_a_max_prefix_towards_microsoft(maps_lab):
    config = (maps_lab.node_dir("sea-pr1") / "bgpd.conf").read_text()
    assert "maximum-prefix 500" in config
