"""The auto turn-up's optimized-routing steps one at a time, so that a rehearsal can stop between
them: register the topology's `registered-asns`, then activate its `activated: true` prefixes
with their origins' keys. The same portal functions a user calls (emulator.portal.registration);
`apply` is both at once.
"""
from __future__ import annotations

from emulator.core.errors import WorkflowError
from emulator.core.labdir import LabDir
from emulator.plan.model import Plan
from emulator.portal import store
from emulator.portal.provisioning import status
from emulator.portal.registration import (activate_prefix, origins, register_asn,
                                          wait_edges_judged)
from emulator.portal.store import PeeringState
from emulator.topology.intent import Topology


def all_active(labdir: LabDir, plan: Plan) -> bool:
    """Every connection of the peering Active: the page's condition for registering an ASN."""
    found = status(labdir, plan)[1]
    return bool(found) and all(c.active for c in found)


def register(labdir: LabDir, plan: Plan, topo: Topology) -> PeeringState:
    """Register every ASN the topology declares; wait until the edges judged under them."""
    for declared in topo.registered_asns:
        register_asn(labdir, plan, declared.name, declared.asn)
    wait_edges_judged(labdir, plan)
    return store.require(labdir)


def activate(labdir: LabDir, plan: Plan) -> PeeringState:
    """Activate every prefix the topology declares activated, with its origin's prefix key."""
    announced = origins(plan)
    for prefix in plan.activated_prefixes:
        registration = store.require(labdir).registration_of(announced[prefix].asn)
        if registration is None:
            raise WorkflowError(f"cannot activate {prefix} (declared activated): its origin "
                                f"AS{announced[prefix].asn} is not in registered-asns")
        activate_prefix(labdir, plan, prefix, registration.peering_service_prefix_key)
    wait_edges_judged(labdir, plan)
    return store.require(labdir)


def apply(labdir: LabDir, plan: Plan, topo: Topology) -> PeeringState:
    """Auto turn-up: register every ASN of `registered-asns`, activate every prefix declared
    `activated: true` with its origin's key, and wait until the edges judged them."""
    for declared in topo.registered_asns:
        register_asn(labdir, plan, declared.name, declared.asn)
    return activate(labdir, plan)
