"""A real deployment, only where Docker and containerlab are usable; skipped (with the reason)
everywhere else. It owns a lab of its own name and destroys it even when it fails."""
from __future__ import annotations

import dataclasses
import os

import pytest

from emulator.runtime import containerlab
from tests.containerlab.readback import plan_summary, summarize

LAB = "ctsea"      # never a user's lab name


@pytest.fixture(scope="module")
def deployable():
    reason = containerlab.blocker()
    if reason:
        pytest.skip(f"containerlab runtime not usable here: {reason}")
    if os.geteuid() != 0:
        pytest.skip("containerlab deploy needs root")


def test_seattle_comes_up_on_containerlab(seattle, tmp_path, deployable):
    plan = dataclasses.replace(seattle, lab=LAB)
    probe = containerlab.render(plan, tmp_path / "probe")
    missing = containerlab.missing_images(probe)
    if missing:
        pytest.skip(f"images not built: {', '.join(missing)} (docs/containerlab.md, Images)")
    topology_file = tmp_path / LAB / f"{LAB}.clab.yml"
    try:
        rendered = containerlab.up(plan, tmp_path / LAB, progress=print)
        assert summarize(rendered.topology_file) == plan_summary(plan)
    finally:
        if topology_file.exists():
            containerlab.down(topology_file)
