"""The lab plan as JSON and back, so that a node kind's own Python can run inside a container
with the same plan the controller rendered (emulator.runtime.containerlab.node_agent), and so
that the lab's monitor reads a running lab's plan without the topology loader.

Standard library only: it runs in images that carry the emulator package but no other library.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

from emulator.plan.model import Plan

FILE_NAME = "plan.json"     # in a lab's directory: the plan the lab was built with


def to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready values (enums by value, tuples as lists)."""
    return _plain(dataclasses.asdict(plan))


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def from_dict(data: dict[str, Any]) -> Plan:
    return _build(Plan, data)


def _build(hint: Any, value: Any) -> Any:
    """A value of the type `hint` from its JSON form (the plan's types only)."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: _build(hints[f.name], value[f.name])
                       for f in dataclasses.fields(hint) if f.name in value})
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_build(item, v) for v in value)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        return _build(next(a for a in typing.get_args(hint) if a is not type(None)), value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value
