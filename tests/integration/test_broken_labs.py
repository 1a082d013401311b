"""Broken turn-ups are caught by the checks, with evidence, instead of hanging or passing."""
from __future__ import annotations

import pytest

from emulator.judge import checks
from emulator.lab import lifecycle as lab_module
from emulator.core import wait
from tests.integration.conftest import topology_copy

pytestmark = pytest.mark.integration


def _with(path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _microsoft(path, extra: str) -> None:
    _with(path, "microsoft:\n  max-prefix: 500\n", f"microsoft:\n  max-prefix: 500\n{extra}")


def test_lacp_passive_on_both_ends_never_brings_the_lag_up(tmp_path, monkeypatch):
    name = "itpassive"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    _with(path, "lacp: active", "lacp: passive")          # sea-pr1 only
    _microsoft(path, "  lacp: passive\n")
    # IEEE 802.1AX-2014 6.4.13: passive/passive never transmits; a short budget is enough.
    monkeypatch.setitem(wait.BUDGETS, "lacp_setup", 4.0)
    running = lab_module.up(path)
    try:
        assert running.degraded and "sea-1-a" in running.degraded[0]
        lag_check = checks.lag_before_bgp(running)
        mesh = checks.mesh_formed(running)
        assert not lag_check.passed and not mesh.passed
        assert any("sea-1-a" in e and "never came up" in e for e in lag_check.evidence), lag_check
        assert any(e.startswith("sea-1-a-v4") and "Established" not in e for e in mesh.evidence), mesh
        # The other link, LACP active on the peer side, came up as usual.
        assert any(e.startswith("sea-1-b-v4") and e.endswith("Established") for e in mesh.evidence)
    finally:
        running.close()
        lab_module.down(name)
    assert lab_module.leftovers(name) == []


def test_bgp_configured_before_the_lag_is_reported(tmp_path):
    name = "itnolacp"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    # Static bundles on both ends and an edge that does not wait: BGP comes up with no LACP.
    _with(path, "lacp: active", "lacp: off", count=2)
    _microsoft(path, "  lacp: off\n  bgp-waits-for-lacp: false\n")
    running = lab_module.up(path, validate_rules=False)
    try:
        verdict = checks.lag_before_bgp(running)
        assert not verdict.passed, verdict
        assert any("Established" in e and "never seen up" in e for e in verdict.evidence), verdict
        assert checks.mesh_formed(running).passed
    finally:
        running.close()
        lab_module.down(name)
    assert lab_module.leftovers(name) == []
