"""The portal's turn-up, as `mapslab up` drives it: create the peering, then provision and
register.

The page's steps, in order:
  create    Basics (subscription, resource group, name, peer ASN: "CANNOT be changed after the
            peering is created"), Configuration (Direct; AS8075 with exchange route server;
            Premium Free), Connections (Session Address Provider Peer, Use for Peering Service),
            Review + create ("at least one connection"), deployment: provisioning begins.
  provision per connection, read from the lab's timeline (emulator.portal.provisioning).
  register  once every connection is Active: registered ASNs, prefix keys, activated prefixes
            (emulator.portal.registration), declared in the topology in auto mode; only an
            activated prefix is optimized.
State lives in `<labdir>/peering.json` (emulator.portal.store); each milestone is one email.
"""
from __future__ import annotations

from dataclasses import dataclass

from emulator.core.errors import WaitTimeout, WorkflowError
from emulator.core.events import EventKind
from emulator.core.labdir import LabDir
from emulator.plan.model import Plan
from emulator.portal import notify, store
from emulator.portal.notify import Milestone
from emulator.portal.provisioning import provision, sync
from emulator.portal.declared import apply as apply_declared
from emulator.portal.review import changed_fixed_fields, review
from emulator.portal.state import ConnectionProgress, ConnectionState
from emulator.portal.store import ConnectionRecord, Note, PeeringResource, PeeringState
from emulator.topology.intent import Topology


def create(labdir: LabDir, topo: Topology, validate_rules: bool = True) -> PeeringState:
    """Create and deploy the peering: peering.json with nothing registered, before any edge starts.

    Idempotent for the same peering; a peering whose fixed fields differ is refused.
    validate_rules=False (as `lab.up`'s) deploys what the portal would refuse, to rehearse it;
    the first email lists what Review + create would have said.
    """
    problems = review(topo)
    if problems and validate_rules:
        raise WorkflowError(f"peering {topo.peering.name} does not pass validation:\n"
                            + "\n".join(f"  {p}" for p in problems))
    peering = topo.peering
    with store.locked(labdir):
        existing = store.read(labdir)
        if existing is not None:
            changed = changed_fixed_fields(existing.peering, topo)
            if changed:
                raise WorkflowError(
                    f"peering {existing.peering.name} of lab {labdir.lab!r} exists; its "
                    f"subscription, resource group, name and ASN cannot be changed after it was "
                    f"created ({'; '.join(changed)}): remove the lab (`mapslab down "
                    f"{labdir.lab}`) to create a new peering")
            return existing
        resource = PeeringResource(name=peering.name, subscription=peering.subscription,
                                   resource_group=peering.resource_group,
                                   peer_asn=peering.peer_asn,
                                   contact=notify.contact(peering.name), created=store.clock())
        state = PeeringState(peering=resource, connections=tuple(
            ConnectionRecord(name=c.name, connection_state=ConnectionState.PENDING_APPROVAL,
                             detail="waiting for Microsoft's side to be built")
            for c in topo.connections))
        state = store.announce(labdir, state, [Note(
            Milestone.PEERING_CREATED, resource.name, resource.created,
            notify.peering_created(topo, resource.direct_peering_type, resource.sku,
                                   problems))])
        store.write(labdir, state)
        return state


def ports_configured(labdir: LabDir, plan: Plan) -> None:
    """Record that Microsoft's ports of every link are configured (the lab has built its LAGs)."""
    for lag in plan.lags:
        labdir.event(EventKind.PORTS_CONFIGURED, node=lag.b_node, lag=lag.name)


@dataclass(frozen=True)
class TurnUp:
    connections: tuple[ConnectionProgress, ...]
    state: PeeringState
    problems: tuple[str, ...]        # what did not happen and why, for Lab.degraded

    def summary(self) -> str:
        active = sum(1 for c in self.connections if c.active)
        return (f"{active} of {len(self.connections)} connection(s) Active; "
                f"{len(self.state.registrations)} ASN(s) registered, "
                f"{len(self.state.prefixes)} prefix(es) activated (`mapslab events` lists the "
                f"automated emails)")


def turn_up(labdir: LabDir, plan: Plan, topo: Topology, mode: str = "auto",
            seconds: float | None = None) -> TurnUp:
    """After `up` built the lab: provision, then in auto mode apply the declared intent.

    Manual mode registers nothing: the user rehearses the portal with `mapslab asn register`
    and `mapslab prefix activate`. A lab with no Active connection stays up, degraded.
    """
    if mode not in ("auto", "manual"):
        raise WorkflowError(f"turn-up mode {mode!r}: choose auto or manual")
    try:
        found = provision(labdir, plan, seconds)
    except WaitTimeout:
        # Some connection is still Validating (its sessions are not up): that is the lab's
        # state to report, not a reason to refuse the rest of the turn-up.
        found = sync(labdir, plan)
    problems = [c.describe() for c in found if not c.active]
    if mode == "auto" and found and all(c.active for c in found):
        apply_declared(labdir, plan, topo)
    elif mode == "auto":
        problems.append("nothing registered: the portal allows registration only once every "
                        "connection of the peering is Active")
    return TurnUp(found, store.require(labdir), tuple(problems))
