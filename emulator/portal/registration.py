"""Optimized routing: registered ASNs, their peering service prefix keys, activated prefixes.

The page: "The Connection State of your peering connections must be Active before registering
your ASN" (every connection of the peering); each registered ASN gets a unique peering service
prefix key, which "must be used with ALL peering service prefixes" of that origin; a prefix is
activated with the key of its origin ASN's registration, and only then does the edge optimize it
(and accept it at all if it is longer than /24). A registered origin's prefix that is not
activated is accepted, not optimized. The edge agents see a change of peering.json and
judge their routes again; `wait_edges_judged` waits for that.
"""
from __future__ import annotations

import hmac
import ipaddress
import re
import uuid
from dataclasses import dataclass

from emulator.core import wait
from emulator.core.errors import WorkflowError
from emulator.core.labdir import LabDir
from emulator.core.page import LONGEST_IPV4_WITHOUT_ACTIVATION, MICROSOFT_ASN
from emulator.edge.policy import EdgePolicy, judge
from emulator.observe.observers import EdgeRoutes, edge_routes
from emulator.plan.model import Plan, Role
from emulator.portal import notify, store
from emulator.portal.notify import Milestone
from emulator.portal.provisioning import sync
from emulator.portal.store import ActivatedPrefix, AsnRegistration, Note
from emulator.topology.addresses import Use, asn_range

# Azure resource names; the lab's own, conservative rule.
RESOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


def _refuse_asn(asn: int) -> str | None:
    if not 1 <= asn <= 4294967295:
        return "an ASN is a number from 1 to 4294967295"
    special = asn_range(asn)
    if asn == MICROSOFT_ASN:
        return f"AS{MICROSOFT_ASN} is Microsoft's own ASN"
    if special is not None and special.use in (Use.PRIVATE, Use.RESERVED):
        return (f"it is {special.describe()}; only public ASNs can be registered (a private ASN "
                f"can't be in the AS path)")
    return None


def register_asn(labdir: LabDir, plan: Plan, name: str, asn: int) -> AsnRegistration:
    """Register an origin ASN, once every connection is Active; issue its prefix key."""
    found = sync(labdir, plan)          # Active connections are announced before registration
    refused = f"cannot register AS{asn}"
    if not RESOURCE_NAME.match(name):
        raise WorkflowError(f"{refused} as {name!r}: a registered ASN's name is 1-80 letters, "
                            f"digits, '-', '_' or '.', starting with a letter or digit")
    problem = _refuse_asn(asn)
    if problem:
        raise WorkflowError(f"{refused}: {problem}")
    with store.locked(labdir):
        state = store.require(labdir)
        for existing in state.registrations:
            if (existing.name, existing.asn) == (name, asn):
                return existing
            if existing.asn == asn:
                raise WorkflowError(f"{refused}: it is already registered as {existing.name!r} "
                                    f"for peering {state.peering.name}")
            if existing.name == name:
                raise WorkflowError(f"{refused} as {name!r}: that name already registers "
                                    f"AS{existing.asn}; choose another name")
        waiting = [c for c in found if not c.active]
        if waiting or not found:
            # The page: "The Connection State of your peering connections must be Active
            # before registering your ASN" (all of them, not one).
            raise WorkflowError(
                f"{refused}: {len(waiting)} of {len(found)} connection(s) of peering "
                f"{state.peering.name} not Active yet ("
                + "; ".join(c.describe() for c in waiting)
                + "); the page: \"The Connection State of your peering connections must be "
                  "Active before registering your ASN\"")
        registration = AsnRegistration(name=name, asn=asn,
                                       peering_service_prefix_key=str(uuid.uuid4()),
                                       registered=store.clock())
        state = state.model_copy(update={"registrations": state.registrations + (registration,)})
        state = store.announce(labdir, state, [Note(
            Milestone.ASN_REGISTERED, f"AS{asn}", registration.registered,
            notify.asn_registered(state.peering.name, name, asn,
                                  registration.peering_service_prefix_key))])
        store.write(labdir, state)
        return registration


@dataclass(frozen=True)
class Origin:
    asn: int
    announcer: str       # "the peer" or "member fabrikam"


def origins(plan: Plan) -> dict[str, Origin]:
    """Each prefix the exchange side announces, with its origin ASN as the edge receives it."""
    found: dict[str, Origin] = {}
    for node in plan.nodes:
        if node.role in (Role.PEER_ROUTER, Role.MEMBER) and node.asn is not None:
            who = "the peer" if node.role is Role.PEER_ROUTER else f"member {node.name}"
            for prefix in node.announces:
                found.setdefault(prefix, Origin(node.asn, who))
    return found


def activate_prefix(labdir: LabDir, plan: Plan, prefix: str, key: str) -> ActivatedPrefix:
    """Activate a prefix with its origin ASN's peering service prefix key."""
    try:
        parsed = ipaddress.ip_network(prefix.strip(), strict=True)
    except ValueError as exc:
        raise WorkflowError(f"cannot activate {prefix!r}: not a prefix with its host bits zero "
                            f"({exc})") from None
    network, announced = str(parsed), origins(plan)
    with store.locked(labdir):
        state = store.require(labdir)
        name = state.peering.name
        if network not in announced:
            raise WorkflowError(
                f"cannot activate {network}: the exchange side of peering {name} does not "
                f"announce it (announced: {', '.join(sorted(announced))}); a prefix must be "
                f"announced over the interconnects to be activated")
        origin = announced[network]
        registration = state.registration_of(origin.asn)
        if registration is None:
            raise WorkflowError(
                f"cannot activate {network}: its origin AS{origin.asn} ({origin.announcer}) is "
                f"not a registered ASN of peering {name}; register it first (`mapslab asn "
                f"register {labdir.lab} NAME {origin.asn}`) to get its prefix key")
        if not hmac.compare_digest(key.strip().encode(),
                                   registration.peering_service_prefix_key.encode()):
            raise WorkflowError(
                f"cannot activate {network}: wrong peering service prefix key; {network} is "
                f"originated by AS{origin.asn} ({origin.announcer}) and needs the key issued when "
                f"AS{origin.asn} was registered as {registration.name!r}")
        existing = state.prefix(network)
        if existing is not None:
            return existing
        activated = ActivatedPrefix(
            prefix=network, origin_asn=origin.asn,
            peering_service_prefix_key=registration.peering_service_prefix_key,
            activated=store.clock())
        state = state.model_copy(update={"prefixes": state.prefixes + (activated,)})
        state = store.announce(labdir, state, [Note(
            Milestone.PREFIX_ACTIVATED, network, activated.activated, notify.prefix_activated(
                name, network, origin.asn, origin.announcer, registration.name,
                activated.prefix_validation_state, activated.learned_type,
                parsed.version == 4 and parsed.prefixlen > LONGEST_IPV4_WITHOUT_ACTIVATION))])
        store.write(labdir, state)
        return activated


def wait_edges_judged(labdir: LabDir, plan: Plan, seconds: float | None = None) -> None:
    """Wait until every edge agent has judged its routes under the registrations in force."""
    state = store.require(labdir)
    policy = EdgePolicy.of({r.asn: r.peering_service_prefix_key for r in state.registrations},
                           state.activation_keys, plan.microsoft_prefixes)

    def misjudged(found: list[EdgeRoutes]) -> str:
        lines = []
        for edge in found:
            for route in edge.routes():
                # The rule too: registered-but-not-activated and unregistered are both
                # not optimized.
                verdict = judge(policy, route.prefix, list(route.as_path))
                if (route.outcome, route.rule) != (verdict.outcome.value, verdict.rule):
                    lines.append(f"{edge.node} ({edge.lag}) {route.prefix}: {route.outcome} "
                                 f"({route.rule}), expected {verdict.outcome.value} "
                                 f"({verdict.rule})")
        return "\n".join(lines)

    # Read routes without creating node directories (LabDir.node would).
    wait.until("prefixes", lambda: edge_routes(plan, lambda node: labdir.path / "nodes" / node),
               misjudged, seconds)

