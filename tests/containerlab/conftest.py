"""Shared set-up for the containerlab runtime tests: the example plans and a fresh rendering."""
from __future__ import annotations

from pathlib import Path

import pytest

from emulator.topology.loader import load
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.runtime import containerlab
from tests.conftest import ROOT

TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yaml"))
HERE = Path(__file__).resolve().parent
FIXTURES_DIR = HERE / "fixtures"


def plan_of(topology: Path) -> Plan:
    return resolve(load(topology), Path(topology).resolve().parent)


@pytest.fixture(scope="session")
def seattle() -> Plan:
    return plan_of(ROOT / "topologies" / "seattle.yaml")


@pytest.fixture
def rendered(seattle: Plan, tmp_path: Path) -> containerlab.RenderedLab:
    return containerlab.render(seattle, tmp_path / "seattle")
