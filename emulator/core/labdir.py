"""A lab's directory on the host: recorded state, per-node daemon files, the event log.

The state file is written before any resource is created, so that `mapslab down` can remove a
lab whose controller was killed half-way.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emulator.core import events
from emulator.core.errors import LabStateError, NoSuchLab

RUN_ROOT = Path(os.environ.get("MAPSLAB_RUN_DIR", "/run/mapslab"))


@dataclass
class LabState:
    lab: str
    topology: str
    runtime: str
    namespaces: list[str] = field(default_factory=list)
    lag_driver: str = ""
    phase: str = "creating"
    started: float = field(default_factory=time.time)


class LabDir:
    def __init__(self, lab: str, root: Path | None = None):
        self.lab = lab
        self.path = (root or RUN_ROOT) / lab

    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def events_file(self) -> Path:
        return self.path / "events.jsonl"

    def node(self, node: str) -> Path:
        path = self.path / "nodes" / node
        path.mkdir(parents=True, exist_ok=True)
        return path

    def exists(self) -> bool:
        return self.state_file.exists()

    def write_state(self, state: LabState) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o755)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.replace(self.state_file)

    def read_state(self) -> LabState:
        try:
            return LabState(**json.loads(self.state_file.read_text()))
        except FileNotFoundError:
            raise NoSuchLab(f"no lab named {self.lab!r} is up (no {self.state_file})") from None
        except (ValueError, TypeError) as exc:
            raise LabStateError(f"cannot read {self.state_file}: {exc}") from None

    def event(self, kind: events.EventKind, **fields: object) -> events.Event:
        """Append one timestamped event to the lab's timeline."""
        self.path.mkdir(parents=True, exist_ok=True)
        return events.append(self.events_file, kind, **fields)

    def events(self) -> list[dict[str, object]]:
        try:
            text = self.events_file.read_text()
        except FileNotFoundError:
            return []
        # A line another process is still appending may be read cut short (its one write(2)
        # crossed a page, and the size grew page by page): only lines ended by "\n" are whole.
        whole = text[:text.rfind("\n") + 1]
        return [json.loads(line) for line in whole.splitlines() if line.strip()]

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
