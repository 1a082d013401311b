"""Shared test set-up: where the fixtures are, and when integration tests can run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def regold() -> bool:
    """Whether goldens are to be rewritten: MAPSLAB_REGOLD=1 (true, yes); "0" or unset: no."""
    return os.environ.get("MAPSLAB_REGOLD", "").strip().lower() in ("1", "true", "yes")


def integration_blocker() -> str | None:
    """Why integration tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "integration tests need root (network namespaces)"
    from emulator.lab.lifecycle import missing_tools
    missing = missing_tools()
    if missing:
        return "missing: " + ", ".join(missing) + " (run `make setup`)"
    return None


def pytest_collection_modifyitems(config, items):
    blocker = None
    for item in items:
        if "integration" in item.keywords:
            blocker = blocker or integration_blocker()
            if blocker:
                item.add_marker(pytest.mark.skip(reason=blocker))
