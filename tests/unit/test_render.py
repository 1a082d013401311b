"""Golden tests for every rendered daemon config: input topology beside expected output.

Regenerate with MAPSLAB_REGOLD=1 after an intended change, and read the diff.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.nodes import bird, exabgp, frr
from emulator.topology.loader import load
from emulator.plan.resolve import resolve
from tests.conftest import ROOT, regold

GOLDEN = ROOT / "tests" / "golden" / "seattle"
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


def rendered() -> dict[str, str]:
    files = {}
    for name in ("sea-pr1", "sea-pr2"):
        files[f"{name}.bgpd.conf"] = frr.render_bgpd(PLAN, PLAN.node(name), "/var/log/bgpd.log")
    for name in ("rs", "fabrikam", "tailspin", "internet"):
        files[f"{name}.bird.conf"] = bird.render(PLAN, PLAN.node(name))
    for lag in PLAN.lags:
        files[f"{lag.b_node}.{lag.ifname}.exabgp.conf"] = exabgp.render(
            PLAN, PLAN.node(lag.b_node), lag, "/etc/agent.json", python="python3")
    for edge in ("sea-ms1", "sea-ms2"):
        files[f"{edge}.internet.exabgp.conf"] = exabgp.render_internet(PLAN, PLAN.node(edge))
    return files


@pytest.mark.parametrize("name", sorted(rendered()))
def test_golden(name):
    text = rendered()[name]
    path = GOLDEN / name
    if regold():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from {path} (MAPSLAB_REGOLD=1 rewrites it)"


def test_exabgp_announces_the_family_of_its_session():
    text = rendered()["sea-ms1.lag0.exabgp.conf"]
    assert text.count("unicast 13.") > 0
    v4 = sum(1 for p in PLAN.microsoft_prefixes if ":" not in p)
    assert text.count("next-hop self;") == len(PLAN.microsoft_prefixes)
    assert text.count("neighbor 198.18.0.0 {") == 1 and text.count("neighbor 2001:db8:ffff:: {") == 1
    ipv4_block = text.split("neighbor 2001:db8:ffff:: {")[0]
    assert ipv4_block.count("next-hop self;") == v4


def test_frr_never_sends_microsoft_routes_back():
    text = rendered()["sea-pr1.bgpd.conf"]
    assert "bgp as-path access-list MICROSOFT seq 5 permit _8075_" in text
    assert "  neighbor 198.18.0.1 route-map TO-MICROSOFT out" in text
    assert "  neighbor 198.18.0.1 maximum-prefix 500" in text


@pytest.mark.parametrize("name", [n for n in sorted(rendered()) if n.endswith("bird.conf")])
def test_bird_parses_the_config(name, tmp_path):
    if not shutil.which("bird"):
        pytest.skip("bird is not installed (make setup)")
    path = tmp_path / "bird.conf"
    path.write_text(rendered()[name])
    result = subprocess.run(["bird", "-p", "-c", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", [n for n in sorted(rendered()) if n.endswith("exabgp.conf")])
def test_exabgp_parses_the_config(name, tmp_path):
    path = tmp_path / "exabgp.conf"
    path.write_text(rendered()[name])
    exabgp_bin = Path(sys.executable).with_name("exabgp")
    result = subprocess.run([str(exabgp_bin), "validate", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
