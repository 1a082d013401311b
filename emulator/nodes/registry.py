"""The node kinds, found by name: every module of this package that registers one.

A new router program is one new module here that defines a class implementing
emulator.nodes.base.NodeKind and decorates it with `@register`; nothing else changes.
"""
from __future__ import annotations

import importlib
import pkgutil

from emulator.nodes.base import NodeKind
from emulator.plan.model import Node, Role

_KINDS: dict[str, NodeKind] = {}
# Modules of this package that are not kinds (they are imported by kinds, or import the registry).
_NOT_KINDS = {"base", "registry", "config", "preflight"}
_loaded = False


def register(cls: type) -> type:
    """Class decorator: one instance of the kind, found by its `software` name."""
    _KINDS[cls.software] = cls()
    return cls


def _load() -> None:
    """Import every module of the package once, so that each kind registers itself (a kind
    imported directly before, e.g. by an observer, is registered already: that is no reason to
    skip the others)."""
    global _loaded
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_KINDS:
            importlib.import_module(f"{__package__}.{module.name}")
    _loaded = True


def kinds() -> dict[str, NodeKind]:
    if not _loaded:
        _load()
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
