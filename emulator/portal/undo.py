"""What the portal lets a user undo: deregister an ASN, deactivate a prefix.

Each change rewrites peering.json, which the edge agents watch: they judge every route again at
once (`wait_edges_judged` waits for it), and each change is one email, as every milestone is.
A registered ASN whose prefixes are still activated with its key is not deregistered: its
prefixes are deactivated first, so that no activation outlives the key it was made with.
"""
from __future__ import annotations

import ipaddress

from emulator.core.errors import WorkflowError
from emulator.core.labdir import LabDir
from emulator.plan.model import Plan
from emulator.portal import store
from emulator.portal.notify import Milestone, Text
from emulator.portal.store import ActivatedPrefix, AsnRegistration, Note

# The milestones of an undo (not part of a turn-up's sequence).
MILESTONES = (Milestone.ASN_DEREGISTERED, Milestone.PREFIX_DEACTIVATED)


def asn_deregistered(peering: str, name: str, asn: int) -> Text:
    return Text(
        f"[{peering}] Registered ASN {name} (AS{asn}) deleted",
        f"AS{asn} is no longer a registered ASN of peering {peering} (it was registered as "
        f"{name}).\n\nIts peering service prefix key is void. Routes originated by AS{asn} are "
        f"accepted but not optimized from now on.\n")


def prefix_deactivated(peering: str, prefix: str, asn: int) -> Text:
    return Text(
        f"[{peering}] Prefix {prefix} deactivated (AS{asn})",
        f"{prefix}, originated by AS{asn}, is no longer an activated peering service prefix of "
        f"peering {peering}.\n\nMicrosoft's edge routers no longer optimize it; a prefix longer "
        f"than /24 is no longer accepted at all.\n")


def deregister_asn(labdir: LabDir, plan: Plan, name: str) -> AsnRegistration:
    """Delete a registered ASN by its name; refused while prefixes activated with its key
    remain."""
    with store.locked(labdir):
        state = store.require(labdir)
        registration = next((r for r in state.registrations if r.name == name), None)
        if registration is None:
            known = ", ".join(r.name for r in state.registrations) or "none"
            raise WorkflowError(f"cannot deregister {name!r}: peering {state.peering.name} has "
                                f"no registered ASN of that name (registered: {known})")
        held = [p.prefix for p in state.prefixes if p.origin_asn == registration.asn]
        if held:
            raise WorkflowError(
                f"cannot deregister {name!r} (AS{registration.asn}): {', '.join(held)} "
                f"{'is' if len(held) == 1 else 'are'} activated with its prefix key; deactivate "
                f"{'it' if len(held) == 1 else 'them'} first (`mapslab prefix deactivate "
                f"{labdir.lab} PREFIX`)")
        state = state.model_copy(update={"registrations": tuple(
            r for r in state.registrations if r.name != name)})
        state = store.announce(labdir, state, [Note(
            Milestone.ASN_DEREGISTERED, f"AS{registration.asn}", store.clock(),
            asn_deregistered(state.peering.name, name, registration.asn))])
        store.write(labdir, state)
        return registration


def deactivate_prefix(labdir: LabDir, plan: Plan, prefix: str) -> ActivatedPrefix:
    """Deactivate an activated prefix."""
    try:
        network = str(ipaddress.ip_network(prefix.strip(), strict=True))
    except ValueError as exc:
        raise WorkflowError(f"cannot deactivate {prefix!r}: not a prefix with its host bits "
                            f"zero ({exc})") from None
    with store.locked(labdir):
        state = store.require(labdir)
        activated = state.prefix(network)
        if activated is None:
            known = ", ".join(p.prefix for p in state.prefixes) or "none"
            raise WorkflowError(f"cannot deactivate {network}: it is not an activated prefix of "
                                f"peering {state.peering.name} (activated: {known})")
        state = state.model_copy(update={"prefixes": tuple(
            p for p in state.prefixes if p.prefix != network)})
        state = store.announce(labdir, state, [Note(
            Milestone.PREFIX_DEACTIVATED, network, store.clock(),
            prefix_deactivated(state.peering.name, network, activated.origin_asn))])
        store.write(labdir, state)
        return activated
