"""Integration fixtures: labs with names of their own, always removed, leftovers checked."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator import lab as lab_module
from tests.conftest import ROOT


def topology_copy(tmp_path: Path, lab: str, source: str = "seattle.yaml") -> Path:
    """The example topology under another lab name, so tests never touch a user's lab."""
    text = (ROOT / "topologies" / source).read_text()
    text = re.sub(r"^lab: .*$", f"lab: {lab}", text, count=1, flags=re.M)
    path = tmp_path / f"{lab}.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def seattle_lab(tmp_path_factory):
    """The default lab, up once per module, always torn down and checked for leftovers."""
    name = "itsea"
    lab_module.down(name)
    path = topology_copy(tmp_path_factory.mktemp("topo"), name)
    running = lab_module.up(path)
    try:
        yield running
    finally:
        running.close()
        lab_module.down(name)
        assert lab_module.leftovers(name) == []
