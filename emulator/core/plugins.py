"""Registries for what grows (router programs, fault scenarios, runtimes): each member is a
module of a package that registers itself when imported; `import_all` imports them all once."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

_imported: set[str] = set()


def import_all(package: str, skip: Iterable[str] = ()) -> None:
    """Import every module of `package` except `skip`, the first time only (a member imported
    directly before is no reason to skip the others)."""
    if package in _imported:
        return
    found = importlib.import_module(package)
    for module in pkgutil.iter_modules(found.__path__):
        if module.name not in set(skip):
            importlib.import_module(f"{package}.{module.name}")
    _imported.add(package)
