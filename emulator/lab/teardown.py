"""Remove a lab: every process in its namespaces or using its directory, the namespaces, the
directory. Needs nothing but the lab's name, so it works after a killed controller; imports
nothing of the lab's plan or programs, so `mapslab down` starts at once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emulator.core.errors import LabStateError
from emulator.core.labdir import LabDir
from emulator.runtime.netns import destroy_namespaces, lab_namespaces, pids_in


def lab_processes(name: str) -> list[int]:
    """Processes that belong to the lab: in its namespaces, or using its directory."""
    marker = str(LabDir(name).path) + "/"
    pids = {pid for found in pids_in(lab_namespaces(name)).values() for pid in found}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                pids.add(int(entry.name))
    return sorted(pids)


def leftovers(name: str) -> list[str]:
    """What of the lab is still on this host: namespaces, processes, its directory."""
    found = [f"namespace {ns}" for ns in lab_namespaces(name)]
    found += [f"process {pid}" for pid in lab_processes(name)]
    if LabDir(name).path.exists():
        found.append(f"directory {LabDir(name).path}")
    return found


@dataclass(frozen=True)
class DownReport:
    lab: str
    namespaces: int
    was_recorded: bool


def down(name: str) -> DownReport:
    """Remove every trace of the lab; idempotent, and needs only the lab's name."""
    labdir = LabDir(name)
    recorded: list[str] = []
    was_recorded = labdir.exists()
    if was_recorded:
        try:
            recorded = labdir.read_state().namespaces
        except LabStateError:
            recorded = []
    namespaces = sorted(set(recorded) | set(lab_namespaces(name)))
    destroy_namespaces(namespaces)
    labdir.remove()
    return DownReport(name, len(namespaces), was_recorded)
