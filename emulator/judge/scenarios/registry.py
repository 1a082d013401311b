"""The fault scenarios, found by name: every module of this package that registers one."""
from __future__ import annotations

from emulator.core import plugins
from emulator.core.errors import FaultError
from emulator.judge.scenarios.base import Scenario, TargetKind

_SCENARIOS: dict[str, Scenario] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: one instance of the scenario, found by its name."""
    if cls.name in _SCENARIOS:
        raise ValueError(f"two fault scenarios named {cls.name!r}")
    _SCENARIOS[cls.name] = cls()
    return cls


def registered() -> dict[str, Scenario]:
    """Every scenario by name, smallest target first."""
    plugins.import_all(__package__)
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
