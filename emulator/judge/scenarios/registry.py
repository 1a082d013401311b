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


_EXAMPLE = {TargetKind.MEMBER: "a LAG (sea-1-a) and --member N",
            TargetKind.LAG: "a LAG (sea-1-a)",
            TargetKind.PEER_ROUTER: "a peer router (sea-pr1)",
            TargetKind.EDGE: "a Microsoft edge router (sea-ms1)",
            TargetKind.LOCATION: "a location (sea)"}


def target_usage() -> str:
    """What TARGET names for each scenario, from the registry (`mapslab fail --help`)."""
    by_kind: dict[TargetKind, list[str]] = {}
    for scenario in registered().values():
        by_kind.setdefault(scenario.target_kind, []).append(scenario.name)
    return "; ".join(f"{', '.join(names_)}: {_EXAMPLE[kind]}" for kind, names_ in by_kind.items())
