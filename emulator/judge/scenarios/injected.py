"""The faults injected into a lab: `mapslab fail SCENARIO TARGET` and `mapslab recover`.

A fault is checked first (a refused one leaves no trace), then recorded in the lab's directory
before it is applied, so that `recover` (or `down`) can undo it from another process.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.core.errors import FaultError, FaultRefused
from emulator.core.events import EventKind
from emulator.judge.scenarios.base import Fault
from emulator.judge.scenarios.registry import get

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab


def _faults_file(lab: Lab) -> Path:
    return lab.dir.path / "faults.json"


def active(lab: Lab) -> list[Fault]:
    try:
        return [Fault(**f) for f in json.loads(_faults_file(lab).read_text())]
    except FileNotFoundError:
        return []


def _record(lab: Lab, faults: list[Fault]) -> None:
    _faults_file(lab).write_text(json.dumps([asdict(f) for f in faults], indent=2))


def check(lab: Lab, scenario: str, target: str, member: int = 1) -> None:
    """Refuse a fault this lab cannot take (FaultRefused: a bad argument, exit 2), before
    anything is recorded or changed."""
    try:
        get(scenario).check(lab, target, member)
    except FaultRefused:
        raise
    except FaultError as exc:
        raise FaultRefused(str(exc)) from None


def inject(lab: Lab, scenario: str, target: str, member: int = 1) -> Fault:
    chosen = get(scenario)
    check(lab, scenario, target, member)
    fault = Fault(scenario, target, member, time.time())
    _record(lab, active(lab) + [fault])
    chosen.inject(lab, fault)
    lab.dir.event(EventKind.FAULT, scenario=scenario, target=target, member=member)
    return fault


def recover(lab: Lab) -> list[Fault]:
    """Undo every recorded fault, newest first; BGP comes back the way it came up."""
    faults = active(lab)
    for fault in reversed(faults):
        get(fault.scenario).recover(lab, fault)
        lab.dir.event(EventKind.RECOVER, scenario=fault.scenario, target=fault.target,
                      member=fault.member)
    _record(lab, [])
    return faults
