"""Integration fixtures: labs with names of their own, always removed, leftovers checked."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from emulator.lab import lifecycle as lab_module
from tests.conftest import ROOT

# Lab names of these tests start with this (MAPSLAB_TEST_LAB_PREFIX), so that runs on one host
# can keep their labs apart.
LAB_PREFIX = os.environ.get("MAPSLAB_TEST_LAB_PREFIX", "it")


def topology_copy(tmp_path: Path, lab: str, source: str = "seattle.yaml") -> Path:
    """The example topology under another lab name, so tests never touch a user's lab."""
    text = (ROOT / "topologies" / source).read_text()
    text = re.sub(r"^lab: .*$", f"lab: {lab}", text, count=1, flags=re.M)
    path = tmp_path / f"{lab}.yaml"
    path.write_text(text)
    return path


@contextmanager
def lab_named(name: str, path: Path, **options):
    """A lab up for a `with` block, always torn down and checked for leftovers."""
    lab_module.down(name)
    running = lab_module.up(path, **options)
    try:
        yield running
    finally:
        running.close()
        lab_module.down(name)
        assert lab_module.leftovers(name) == []


@pytest.fixture(scope="module")
def seattle_lab(tmp_path_factory):
    """The default lab, up once per module."""
    name = "itsea"
    with lab_named(name, topology_copy(tmp_path_factory.mktemp("topo"), name)) as running:
        yield running
