"""What `mapslab peering` and `mapslab events` print, and the lab the portal commands act on."""
from __future__ import annotations

from datetime import datetime, timezone

from emulator.core.labdir import LabDir
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.portal.notify import Delivered
from emulator.portal.state import ConnectionProgress
from emulator.portal.store import PeeringState
from emulator.topology.loader import load


def attach(lab: str) -> tuple[LabDir, Plan]:
    """A running lab's directory and plan, for the portal's commands."""
    labdir = LabDir(lab)
    labdir.read_state()                  # LabStateError when no such lab is up
    return labdir, resolve(load(labdir.path / "topology.yaml"))


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def render_events(delivered: list[Delivered]) -> str:
    """The automated emails, one line each: sequence, date, milestone, subject."""
    return "".join(f"{d.sequence:3d}  {_when(d.time)}  {d.milestone:<21} {d.subject}\n"
                   for d in delivered)


def render_status(state: PeeringState, found: tuple[ConnectionProgress, ...]) -> str:
    """The portal's overview of the peering: connections, registered ASNs, prefixes."""
    p = state.peering
    lines = [f"peering {p.name}: AS{p.peer_asn}, {p.kind} {p.direct_peering_type}, {p.sku}, "
             f"subscription {p.subscription}, resource group {p.resource_group}", "connections:"]
    lines += [f"  {c.name:<12} {c.state.value:<22} {c.detail}".rstrip() for c in found]
    lines.append("registered ASNs:" + ("" if state.registrations else " none"))
    lines += [f"  {r.name:<20} {'AS' + str(r.asn):<12} key {r.peering_service_prefix_key}"
              for r in state.registrations]
    lines.append("activated prefixes:" + ("" if state.prefixes else " none"))
    lines += [f"  {a.prefix:<20} {'AS' + str(a.origin_asn):<12} {a.prefix_validation_state}"
              for a in state.prefixes]
    return "\n".join(lines) + "\n"
