"""The runtimes, found by name (`mapslab up --runtime NAME`), so that nothing above this stage
branches on a runtime's name.

Every runtime opens a lab's nodes as a `Runtime` (emulator.runtime.base). A runtime whose own tool
deploys a whole rendered plan (containerlab: `containerlab deploy`) also offers a `Deployment`;
the others (netns) are built node by node by the lab controller through the `Runtime` calls.
A new runtime is one new module or package here that calls `register` when imported.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from emulator.core import plugins
from emulator.core.errors import RuntimeUnavailable
from emulator.core.labdir import LabDir
from emulator.plan.model import Plan
from emulator.runtime.base import Runtime

Progress = Callable[[str], None]


class Rendered(Protocol):
    """A plan written as files for a runtime's own tool."""

    topology_file: Path
    files: tuple[str, ...]          # every file written, relative to the topology file's folder


class Deployment(Protocol):
    """What a runtime that deploys a rendered plan whole offers: render, up, down."""

    def blocker(self) -> str | None:
        """Why labs cannot be deployed from this machine, or None."""

    def overrides(self, path: Path) -> Mapping[str, Any]:
        """Per-node replacements read from a YAML file (paths in it relative to the file)."""

    def render(self, plan: Plan, out_dir: Path,
               overrides: Mapping[str, Any] | None = None) -> Rendered: ...

    def up(self, plan: Plan, out_dir: Path, overrides: Mapping[str, Any] | None = None,
           progress: Progress = lambda _: None) -> Rendered:
        """Render, deploy, wait until every LAG is up and every session Established."""

    def down(self, topology_file: Path) -> None: ...

    def attach(self, labdir: LabDir) -> Any:
        """A lab it deployed, from the record in its directory: plan, dir, runtime, driver and
        the host observers read through (emulator.lab.lifecycle.open_lab makes the Lab)."""


@dataclass(frozen=True)
class RuntimeKind:
    name: str
    summary: str                              # one line, for `--help`
    open: Callable[[str], Runtime]            # the runtime of the lab of that name
    # Made when asked for: a deployment's module may need libraries a node's image lacks.
    deployment: Callable[[], Deployment] | None = None


_KINDS: dict[str, RuntimeKind] = {}
_NOT_RUNTIMES = {"base", "registry", "fake", "lag"}


def register(kind: RuntimeKind) -> RuntimeKind:
    _KINDS[kind.name] = kind
    return kind


def _open_netns(lab: str) -> Runtime:
    from emulator.runtime.netns import NetnsRuntime
    return NetnsRuntime(lab)


def _load() -> None:
    # netns.py does not register itself (yet): it is registered here, imported only when opened.
    _KINDS.setdefault("netns", RuntimeKind("netns", "this machine's network namespaces (default)",
                                           _open_netns))
    plugins.import_all(__package__, skip=_NOT_RUNTIMES)


def kinds() -> dict[str, RuntimeKind]:
    _load()
    return dict(_KINDS)


def names(deploying: bool = False) -> list[str]:
    """Runtime names, the default first; deploying=True: only those with a Deployment."""
    found = [k for k in kinds().values() if k.deployment is not None or not deploying]
    return [k.name for k in sorted(found, key=lambda k: (k.name != "netns", k.name))]


def get(name: str) -> RuntimeKind:
    found = kinds().get(name)
    if found is None:
        raise RuntimeUnavailable(f"no runtime named {name!r} (runtimes: {', '.join(names())})")
    return found
