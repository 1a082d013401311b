"""The node kinds, found by name: every module of this package that registers one.

A new router program is one new module here that defines a class implementing
emulator.nodes.base.NodeKind and decorates it with `@register`; nothing else changes.
"""
from __future__ import annotations

from emulator.core import plugins
from emulator.nodes.base import NodeKind
from emulator.plan.model import Node, Role

_KINDS: dict[str, NodeKind] = {}
# Modules of this package that are not kinds (they are imported by kinds, or import the registry).
_NOT_KINDS = {"base", "registry", "config", "preflight"}


def register(cls: type) -> type:
    """Class decorator: one instance of the kind, found by its `software` name."""
    _KINDS[cls.software] = cls()
    return cls


def kinds() -> dict[str, NodeKind]:
    plugins.import_all(__package__, skip=_NOT_KINDS)
    return dict(_KINDS)


def softwares(role: Role) -> list[str]:
    """The programs that can play a role, e.g. the peer-router programs."""
    return sorted(name for name, kind in kinds().items() if role in kind.roles)


def kind_of(node: Node) -> NodeKind:
    found = kinds().get(node.software)
    if found is None or node.role not in found.roles:
        choices = ", ".join(softwares(node.role)) or "none"
        raise KeyError(f"{node.name}: no {node.role.value} runs {node.software!r} "
                       f"(programs for this role: {choices})")
    return found
