"""The labs the portal shows, read through the same functions as the CLI.

Thin adapters only: the lab's directory and plan as `mapslab peering` attaches them, the list
of labs in the run directory, and one automated email read whole (the CLI lists subjects only).
A lab removed meanwhile (by `mapslab down`, or half-way through its teardown) is reported as
NoSuchLab, never as a half-read file.
"""
from __future__ import annotations

import email
import email.policy
import mailbox
from dataclasses import dataclass

from emulator.core import labdir as labdirs
from emulator.core.errors import LabStateError, NoSuchLab, TopologyError, WorkflowError
from emulator.core.labdir import LabDir, LabState
from emulator.plan.model import Plan
from emulator.plan.resolve import recorded_plan
from emulator.portal import provisioning, store
from emulator.portal.notify import Delivered
from emulator.portal.state import ConnectionProgress
from emulator.portal.store import PeeringState


def names() -> list[str]:
    """Every lab with a recorded state in the run directory."""
    root = labdirs.RUN_ROOT
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "state.json").is_file())


def gone(lab: str, why: object) -> NoSuchLab:
    return NoSuchLab(f"lab {lab!r} is not up any more ({why}); it was removed or is being "
                     f"torn down")


def state(lab: str) -> tuple[LabDir, LabState]:
    labdir = LabDir(lab)
    return labdir, labdir.read_state()          # NoSuchLab when no such lab is up


def attach(lab: str) -> tuple[LabDir, Plan]:
    """A lab's directory and plan, as `mapslab peering` attaches them."""
    labdir, _ = state(lab)
    try:
        return labdir, recorded_plan(labdir)
    except (TopologyError, OSError) as exc:
        if not labdir.exists():
            raise gone(lab, "its directory went away") from None
        raise LabStateError(f"cannot read the plan of lab {lab!r}: {exc}") from None


@dataclass(frozen=True)
class PeeringView:
    """One peering of the Peerings list and of its own page."""

    lab: str
    phase: str                                    # creating | up (LabState.phase)
    record: PeeringState | None                   # None before the peering was created
    connections: tuple[ConnectionProgress, ...]


def peering(lab: str) -> PeeringView:
    labdir, recorded = state(lab)
    if store.read(labdir) is None:
        return PeeringView(lab, recorded.phase, None, ())
    try:
        _, plan = attach(lab)
        record, found = provisioning.status(labdir, plan)
    except WorkflowError:
        if not labdir.exists():
            raise gone(lab, "its records went away") from None
        raise
    return PeeringView(lab, recorded.phase, record, found)


def peerings() -> list[PeeringView]:
    """Every lab's peering; a lab that vanishes while the list is read is left out."""
    found = []
    for lab in names():
        try:
            found.append(peering(lab))
        except (LabStateError, OSError):
            continue
    return found


def notifications(labdir: LabDir) -> list[Delivered]:
    """The automated emails, newest first."""
    return list(reversed(store.events(labdir)))


def message(labdir: LabDir, key: str) -> tuple[Delivered, str]:
    """One automated email and its text; NoSuchLab-free: an unknown key is a WorkflowError."""
    found = {d.key: d for d in store.events(labdir)}
    if key not in found:                         # only keys the maildir listed, never a path
        raise WorkflowError(f"no message {key!r} in the notifications of lab {labdir.lab!r}")
    box = mailbox.Maildir(store.maildir(labdir), create=False)
    with box.get_file(key) as handle:
        parsed = email.message_from_binary_file(handle, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    return found[key], body.get_content() if body is not None else ""
