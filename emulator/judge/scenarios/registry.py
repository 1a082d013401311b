"""The fault scenarios, found by name: every module of this package that registers one."""
from __future__ import annotations

import importlib
import pkgutil

from emulator.core.errors import FaultError
from emulator.judge.scenarios.base import Scenario, TargetKind

_SCENARIOS: dict[str, Scenario] = {}
_loaded = False


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: one instance of the scenario, found by its name."""
    if cls.name in _SCENARIOS:
        raise ValueError(f"two fault scenarios named {cls.name!r}")
    _SCENARIOS[cls.name] = cls()
    return cls


def _load() -> None:
    """Import every module once (one imported directly before is no reason to skip the rest)."""
    global _loaded
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    _loaded = True


def registered() -> dict[str, Scenario]:
    """Every scenario by name, smallest target first."""
    if not _loaded:
        _load()
    order = list(TargetKind)
    return {s.name: s for s in sorted(_SCENARIOS.values(),
                                      key=lambda s: (order.index(s.target_kind), s.name))}


def names() -> tuple[str, ...]:
    return tuple(registered())


def get(name: str) -> Scenario:
    found = registered().get(name)
    if found is None:
        raise FaultError(f"unknown scenario {name!r}; one of {', '.join(names())}")
    return found
