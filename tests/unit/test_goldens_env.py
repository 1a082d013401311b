"""Goldens are rewritten only when asked for: MAPSLAB_REGOLD=1 (or true/yes), never for "0"."""
from __future__ import annotations

import pytest

from tests.conftest import regold


@pytest.mark.parametrize("value,rewrites", [("1", True), ("true", True), ("yes", True),
                                            ("0", False), ("", False), ("no", False),
                                            ("false", False)])
def test_regold_only_when_asked(monkeypatch, value, rewrites):
    monkeypatch.setenv("MAPSLAB_REGOLD", value)
    assert regold() is rewrites


def test_regold_off_by_default(monkeypatch):
    monkeypatch.delenv("MAPSLAB_REGOLD", raising=False)
    assert regold() is False
