"""The peering's records: `<labdir>/peering.json`, and the milestones' emails in `<labdir>/maildir`.

peering.json is the file the edge agents watch (emulator.edge.agent.read_policy): they read its
top-level "prefix_keys" (each registered ASN's peering service prefix key) and "activation_keys"
(each activated prefix with the key it was activated with) and judge every route again when it
changes; "registered_asns" and "activated_prefixes" list the same for a reader.
The records beside them are Azure's resources under Azure's (camelCase) names: the peering,
its connections as last observed, registered ASNs, activated prefixes, and the milestones
announced so far. One writer at a time holds `peering.lock`; every write is atomic.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, computed_field
from pydantic.alias_generators import to_camel

from emulator.core import page
from emulator.core.errors import WorkflowError
from emulator.core.labdir import LabDir
from emulator.portal import notify
from emulator.portal.notify import Milestone, Text
from emulator.portal.state import ConnectionState

# Azure's names for the portal's choices (Microsoft.Peering: kind, directPeeringType, sku.name).
DIRECT_PEERING_TYPE = "IxRs"
SKU_NAME = "Premium_Direct_Free"
# The file's derived keys, snake_case and first; the edge agents read the keys
# (emulator.edge.agent.read_policy).
DERIVED_KEYS = ("registered_asns", "activated_prefixes", "prefix_keys", "activation_keys")
# When a peering, registration or activation happens; tests replace it.
clock = time.time


class Record(BaseModel):
    """A record of peering.json: frozen, written under Azure's camelCase names."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)


class PeeringResource(Record):
    """Microsoft.Peering/peerings as deployed; subscription, resource group, name, ASN are fixed."""

    name: str
    subscription: str
    resource_group: str
    peer_asn: int
    contact: str
    created: float
    kind: str = page.KIND
    direct_peering_type: str = DIRECT_PEERING_TYPE
    sku: str = SKU_NAME
    provisioning_state: str = "Succeeded"


class ConnectionRecord(Record):
    """A connection as last observed (the live state comes from the timeline)."""

    name: str
    connection_state: ConnectionState
    detail: str = ""
    session_address_provider: str = page.SESSION_ADDRESS_PROVIDER
    use_for_peering_service: bool = True


class AsnRegistration(Record):
    """Microsoft.Peering/peerings/registeredAsns: an origin ASN and its prefix key."""

    name: str
    asn: int
    peering_service_prefix_key: str
    registered: float
    provisioning_state: str = "Succeeded"


class ActivatedPrefix(Record):
    """A prefix activated with its origin's key (prefixValidationState, learnedType as Azure)."""

    prefix: str
    origin_asn: int
    peering_service_prefix_key: str
    activated: float
    prefix_validation_state: str = "Verified"
    # Learned over the exchange's (the service provider's) sessions with Microsoft.
    learned_type: str = "ViaServiceProvider"
    provisioning_state: str = "Succeeded"


class MilestoneRecord(Record):
    sequence: int
    time: float
    milestone: Milestone
    about: str            # the peering, a connection, an ASN (AS64501) or a prefix
    subject: str
    message_id: str


class PeeringState(Record):
    """All of peering.json: the records, and DERIVED_KEYS computed from them."""

    peering: PeeringResource
    connections: tuple[ConnectionRecord, ...] = ()
    registrations: tuple[AsnRegistration, ...] = ()
    prefixes: tuple[ActivatedPrefix, ...] = ()
    milestones: tuple[MilestoneRecord, ...] = ()

    # DERIVED_KEYS, under the names the edge agents read.
    @computed_field(alias="registered_asns")          # type: ignore[prop-decorator]
    @property
    def registered_asns(self) -> list[int]:
        return [r.asn for r in self.registrations]

    @computed_field(alias="activated_prefixes")       # type: ignore[prop-decorator]
    @property
    def activated_prefixes(self) -> list[str]:
        return [p.prefix for p in self.prefixes]

    @computed_field(alias="prefix_keys")              # type: ignore[prop-decorator]
    @property
    def prefix_keys(self) -> dict[str, str]:
        return {str(r.asn): r.peering_service_prefix_key for r in self.registrations}

    @computed_field(alias="activation_keys")          # type: ignore[prop-decorator]
    @property
    def activation_keys(self) -> dict[str, str]:
        return {p.prefix: p.peering_service_prefix_key for p in self.prefixes}

    def registration_of(self, asn: int) -> AsnRegistration | None:
        return next((r for r in self.registrations if r.asn == asn), None)

    def prefix(self, prefix: str) -> ActivatedPrefix | None:
        return next((p for p in self.prefixes if p.prefix == prefix), None)

    def announced(self, milestone: Milestone, about: str) -> bool:
        return any(m.milestone is milestone and m.about == about for m in self.milestones)


def peering_file(labdir: LabDir) -> Path:
    return labdir.path / "peering.json"


def maildir(labdir: LabDir) -> Path:
    return labdir.path / "maildir"


@contextmanager
def locked(labdir: LabDir) -> Iterator[None]:
    """One writer at a time: `up`, and the commands a user runs while it is up."""
    labdir.path.mkdir(parents=True, exist_ok=True)
    with open(labdir.path / "peering.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def read(labdir: LabDir) -> PeeringState | None:
    """The lab's peering, or None before it was created."""
    try:
        return PeeringState.model_validate_json(peering_file(labdir).read_bytes())
    except FileNotFoundError:
        return None
    except ValueError as exc:           # pydantic's ValidationError is one
        raise WorkflowError(f"cannot read {peering_file(labdir)}: {exc}") from None


def require(labdir: LabDir) -> PeeringState:
    """The lab's peering; WorkflowError before it was created."""
    state = read(labdir)
    if state is None:
        raise WorkflowError(f"lab {labdir.lab!r} has no peering yet ({peering_file(labdir)} does "
                            f"not exist): `mapslab up` creates it")
    return state


def write(labdir: LabDir, state: PeeringState) -> None:
    # Atomic: the edge agents may read the file at any moment.
    tmp = peering_file(labdir).with_suffix(".tmp")
    data = state.model_dump(mode="json", by_alias=True)
    # The derived keys first, where a reader of the file (and the agents' author) looks.
    data = {key: data.pop(key) for key in DERIVED_KEYS} | data
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, peering_file(labdir))


# ---- the milestones: one email each, and its record ----

@dataclass(frozen=True)
class Note:
    """A milestone to announce: what, about whom, when, and what its email says."""

    milestone: Milestone
    about: str
    time: float
    text: Text


def announce(labdir: LabDir, state: PeeringState, notes: list[Note]) -> PeeringState:
    """Deliver one message per milestone, in the given order; return the state recording them."""
    records = list(state.milestones)
    for note in notes:
        sequence = len(records) + 1
        message = notify.compose(notify.Notification(sequence, note.time, note.milestone,
                                                     note.text),
                                 labdir.lab, state.peering.contact)
        notify.deliver(maildir(labdir), message)
        records.append(MilestoneRecord(sequence=sequence, time=note.time,
                                       milestone=note.milestone, about=note.about,
                                       subject=note.text.subject,
                                       message_id=str(message["Message-ID"])))
    return state.model_copy(update={"milestones": tuple(records)})


def events(labdir: LabDir) -> list[notify.Delivered]:
    """The automated emails of the lab, in milestone order."""
    return notify.inbox(maildir(labdir))
