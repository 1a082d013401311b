"""Fault scenarios: `mapslab fail SCENARIO TARGET`, `mapslab recover` and `mapslab failover`.

One module a scenario, each registering a `Scenario` (base.py): its target kind, how it is
injected and recovered, and what it expects of the lab under the fault. Adding a scenario is one
new module here; the CLI, the harness and the tests find it in the registry.
`mapslab fail --help` lists them, smallest target first.
"""
from emulator.judge.scenarios.base import Fault, Scenario, ScenarioResult, TargetKind
from emulator.judge.scenarios.injected import active, check, inject, recover
from emulator.judge.scenarios.registry import get, names, register, registered

__all__ = ["Fault", "Scenario", "ScenarioResult", "TargetKind", "active", "check", "get", "inject",
           "names", "recover", "register", "registered"]
