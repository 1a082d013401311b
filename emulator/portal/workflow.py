"""The portal's turn-up workflow, as a local state machine that drives the lab.

The page's steps, in order:
  create    Basics (subscription, resource group, name, peer ASN: "CANNOT be changed after the
            peering is created"), Configuration (Direct; AS8075 with exchange route server;
            Premium Free), Connections (Session Address Provider Peer, Use for Peering Service),
            Review + create ("at least one connection"), deployment: provisioning begins.
  provision per connection, read from the lab's timeline: ports configured → session addresses
            allocated and announced → LAG up → BGP configured → Established → Active.
  register  "The Connection State of your peering connections must be Active before registering
            your ASN"; each registered ASN gets a unique peering service prefix key.
  activate  a prefix is activated with the key of its origin ASN's registration; only then does
            the edge optimize it (and accept it at all if it is longer than /24).

State lives in `<labdir>/peering.json`, the file the edge agents watch: they read
"registered_asns" and "activated_prefixes" and re-judge every route when it changes. Each
milestone is one message in `<labdir>/maildir` (emulator.portal.notify).

Connection states are Azure's ConnectionState values, derived from the timeline and the plan:
  PendingApproval        deployed; Microsoft's side (the lab) not built yet: no lab-created
  Approved               the lab is being built; Microsoft's ports not configured yet
  ProvisioningStarted    ports configured, session addresses announced; waiting for every
                         link's LAG and for the edge automation to configure BGP
  ProvisioningCompleted  BGP configured on every link; no session Established yet
  Validating             some of the connection's sessions Established, not all
  Active                 both links' IPv4 and IPv6 sessions Established
  ProvisioningFailed     a link's LAG never came up (lag-timeout), so it got no BGP
TypeChangeRequested, TypeChangeInProgress and ExternalBlocker have no counterpart in the lab.
"""
from __future__ import annotations

import fcntl
import hmac
import ipaddress
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from emulator.portal import notify
from emulator.core import wait
from emulator.topology import validate as portal
from emulator.topology.addresses import Use, asn_range
from emulator.core.page import LONGEST_IPV4_WITHOUT_ACTIVATION, MICROSOFT_ASN
from emulator.core import page
from emulator.edge.policy import EdgePolicy, judge
from emulator.core.errors import WorkflowError
from emulator.topology.intent import Topology
from emulator.core.labdir import LabDir
from emulator.topology.loader import load
from emulator.portal.notify import Milestone, Text
from emulator.observe.observers import edge_routes
from emulator.plan.model import Lag, Plan, Role
from emulator.plan.resolve import resolve
from emulator.observe.timeline import Timeline


class ConnectionState(str, Enum):
    # Microsoft.Peering API: ConnectionState.
    NONE = "None"
    PENDING_APPROVAL = "PendingApproval"
    APPROVED = "Approved"
    PROVISIONING_STARTED = "ProvisioningStarted"
    PROVISIONING_FAILED = "ProvisioningFailed"
    PROVISIONING_COMPLETED = "ProvisioningCompleted"
    VALIDATING = "Validating"
    ACTIVE = "Active"
    TYPE_CHANGE_REQUESTED = "TypeChangeRequested"
    TYPE_CHANGE_IN_PROGRESS = "TypeChangeInProgress"
    EXTERNAL_BLOCKER = "ExternalBlocker"


CONNECTION_STEPS = (Milestone.PORTS_CONFIGURED, Milestone.SESSION_ADDRESSES, Milestone.LAG_UP,
                    Milestone.BGP_CONFIGURED, Milestone.SESSIONS_ESTABLISHED,
                    Milestone.CONNECTION_ACTIVE)
# Azure's names for the portal's choices (Microsoft.Peering: kind, directPeeringType, sku.name).
DIRECT_PEERING_TYPE = "IxRs"
SKU_NAME = "Premium_Direct_Free"
# Azure resource names; the lab's own, conservative rule.
RESOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
# When a peering, registration or activation happens; tests replace it.
clock = time.time


# ---- progress of the connections, from the timeline ----

@dataclass(frozen=True)
class SessionProgress:
    name: str
    lag: str
    established: bool


@dataclass(frozen=True)
class ConnectionProgress:
    name: str
    state: ConnectionState
    detail: str                                       # what it waits for, or why it failed
    reached: tuple[tuple[Milestone, float], ...]      # when each step was first reached
    sessions: tuple[SessionProgress, ...]

    @property
    def active(self) -> bool:
        return self.state is ConnectionState.ACTIVE

    @property
    def settled(self) -> bool:
        """Nothing more will happen without a change to the lab."""
        return self.state in (ConnectionState.ACTIVE, ConnectionState.PROVISIONING_FAILED)

    def describe(self) -> str:
        return f"connection {self.name}: {self.state.value}" + (
            f", {self.detail}" if self.detail else "")


def connection_lags(plan: Plan) -> dict[str, tuple[Lag, ...]]:
    """The links of each connection, in plan order (a two-link mesh each)."""
    found: dict[str, tuple[Lag, ...]] = {}
    for lag in plan.lags:
        found[lag.connection] = found.get(lag.connection, ()) + (lag,)
    return found


def _first(timeline: Timeline, kinds: tuple[str, ...], lag: str) -> float | None:
    found = [e.time for e in timeline.events if e.kind in kinds and e.get("lag") == lag
             and (e.kind != "lag-state" or (e.get("side") == "edge" and e.get("up")))]
    return min(found, default=None)


def _all(times: dict[str, float | None]) -> float | None:
    """When every link had reached a step: the last of them, None while one has not."""
    if any(t is None for t in times.values()):
        return None
    return max((t for t in times.values() if t is not None), default=None)


def progress(timeline: Timeline, plan: Plan) -> tuple[ConnectionProgress, ...]:
    """Every connection's state now, and when it first reached each provisioning step."""
    created = bool(timeline.of("lab-created"))
    return tuple(_connection(timeline, plan, name, lags, created)
                 for name, lags in connection_lags(plan).items())


def _connection(timeline: Timeline, plan: Plan, name: str, lags: tuple[Lag, ...],
                created: bool) -> ConnectionProgress:
    links = [lag.name for lag in lags]
    # lag-up: the edge automation saw LACP up; lag-state: the monitor did, later.
    lag_up = {link: _first(timeline, ("lag-up", "lag-state"), link) for link in links}
    timed_out = {link for link in links if _first(timeline, ("lag-timeout",), link) is not None}
    configured = {link: _first(timeline, ("bgp-configured",), link) for link in links}
    # Ports are configured before the edge automation waits on them; a lab that records no
    # ports-configured event had them configured, at the latest, when the automation acted.
    ports = {link: _first(timeline, ("ports-configured",), link)
             or _first(timeline, ("lag-up", "lag-timeout", "bgp-configured"), link)
             for link in links}
    sessions = [s for s in plan.sessions if s.lag in links]
    by_peer = {(s.lag, s.a_address): s.name for s in sessions}
    up = {s.name: False for s in sessions}
    all_up_at = None
    for event in timeline.of("bgp-state"):          # the edge agent: ExaBGP neighbor-changes
        session = by_peer.get((event.get("lag"), event.get("peer")))
        if session is not None:
            up[session] = event.get("state") == "up"
            if all_up_at is None and all(up.values()):
                all_up_at = event.time
    # Each step at its own time: a lab whose edge does not wait for LACP shows BGP before LAG.
    times = (_all(ports), _all(ports), _all(lag_up), _all(configured), all_up_at, all_up_at)
    reached = tuple((step, at) for step, at in zip(CONNECTION_STEPS, times) if at is not None)

    failed = sorted(link for link in timed_out if configured[link] is None)
    down = ", ".join(s.name for s in sessions if not up[s.name])
    if not created:
        state = ConnectionState.PENDING_APPROVAL
        detail = "waiting for Microsoft's side to be built (the lab is not up)"
    elif failed:
        state = ConnectionState.PROVISIONING_FAILED
        detail = (f"LAG {', '.join(failed)} did not come up in time, so Microsoft's automation "
                  f"configured no BGP there (`mapslab check` shows why)")
    elif any(t is None for t in ports.values()):
        state = ConnectionState.APPROVED
        detail = "waiting for Microsoft to configure its ports on " + ", ".join(
            link for link in links if ports[link] is None)
    elif any(t is None for t in configured.values()):
        state = ConnectionState.PROVISIONING_STARTED
        no_lag = ", ".join(link for link in links if lag_up[link] is None)
        detail = (f"waiting for LAG up on {no_lag} (LACP collecting and distributing)" if no_lag
                  else "waiting for the edge automation to configure BGP on "
                  + ", ".join(link for link in links if configured[link] is None))
    elif not any(up.values()):
        state = ConnectionState.PROVISIONING_COMPLETED
        detail = f"waiting for BGP: {down} not Established (the peer must configure BGP)"
    elif down:
        state, detail = ConnectionState.VALIDATING, f"waiting for BGP: {down} not Established"
    else:
        state, detail = ConnectionState.ACTIVE, ""
    return ConnectionProgress(name, state, detail, reached, tuple(
        SessionProgress(s.name, s.lag or "", up[s.name]) for s in sessions))


# ---- the peering's records, as peering.json holds them ----

def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _record(cls, data: dict):
    names = {_camel(f.name): f.name for f in fields(cls)}
    return cls(**{names[k]: v for k, v in data.items() if k in names})


def _json(record) -> dict:
    return {_camel(k): v for k, v in asdict(record).items()}


@dataclass(frozen=True)
class PeeringResource:
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


@dataclass(frozen=True)
class ConnectionRecord:
    """A connection as last observed (the live state comes from the timeline)."""

    name: str
    connection_state: str
    detail: str = ""
    session_address_provider: str = page.SESSION_ADDRESS_PROVIDER
    use_for_peering_service: bool = True


@dataclass(frozen=True)
class RegisteredAsn:
    """Microsoft.Peering/peerings/registeredAsns."""

    name: str
    asn: int
    peering_service_prefix_key: str
    registered: float
    provisioning_state: str = "Succeeded"


@dataclass(frozen=True)
class ActivatedPrefix:
    """A prefix activated with its origin's key (prefixValidationState, learnedType as Azure)."""

    prefix: str
    origin_asn: int
    peering_service_prefix_key: str
    activated: float
    prefix_validation_state: str = "Verified"
    # Learned over the exchange's (the service provider's) sessions with Microsoft.
    learned_type: str = "ViaServiceProvider"
    provisioning_state: str = "Succeeded"


@dataclass(frozen=True)
class MilestoneRecord:
    sequence: int
    time: float
    milestone: str
    about: str            # the peering, a connection, an ASN (AS64501) or a prefix
    subject: str
    message_id: str


@dataclass(frozen=True)
class PeeringState:
    peering: PeeringResource
    connections: tuple[ConnectionRecord, ...] = ()
    registrations: tuple[RegisteredAsn, ...] = ()
    prefixes: tuple[ActivatedPrefix, ...] = ()
    milestones: tuple[MilestoneRecord, ...] = ()

    @property
    def registered_asns(self) -> list[int]:
        return [r.asn for r in self.registrations]

    @property
    def activated_prefixes(self) -> list[str]:
        return [p.prefix for p in self.prefixes]

    def registration_of(self, asn: int) -> RegisteredAsn | None:
        return next((r for r in self.registrations if r.asn == asn), None)

    def prefix(self, prefix: str) -> ActivatedPrefix | None:
        return next((p for p in self.prefixes if p.prefix == prefix), None)

    def announced(self, milestone: Milestone, about: str) -> bool:
        return any(m.milestone == milestone.value and m.about == about for m in self.milestones)

    def to_json(self) -> dict:
        return {
            # The two keys the edge agents read (emulator.edge.agent.read_policy).
            "registered_asns": self.registered_asns,
            "activated_prefixes": self.activated_prefixes,
            "prefix_keys": {str(r.asn): r.peering_service_prefix_key for r in self.registrations},
            "peering": _json(self.peering),
            "connections": [_json(c) for c in self.connections],
            "registrations": [_json(r) for r in self.registrations],
            "prefixes": [_json(p) for p in self.prefixes],
            "milestones": [_json(m) for m in self.milestones],
        }

    @classmethod
    def from_json(cls, data: dict) -> "PeeringState":
        return cls(_record(PeeringResource, data["peering"]),
                   tuple(_record(ConnectionRecord, c) for c in data.get("connections", [])),
                   tuple(_record(RegisteredAsn, r) for r in data.get("registrations", [])),
                   tuple(_record(ActivatedPrefix, p) for p in data.get("prefixes", [])),
                   tuple(_record(MilestoneRecord, m) for m in data.get("milestones", [])))


def peering_file(labdir: LabDir) -> Path:
    return labdir.path / "peering.json"


def maildir(labdir: LabDir) -> Path:
    return labdir.path / "maildir"


@contextmanager
def _locked(labdir: LabDir) -> Iterator[None]:
    """One writer at a time: `up`, and the commands a user runs while it is up."""
    labdir.path.mkdir(parents=True, exist_ok=True)
    with open(labdir.path / "peering.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def read(labdir: LabDir) -> PeeringState | None:
    """The lab's peering, or None before it was created."""
    try:
        return PeeringState.from_json(json.loads(peering_file(labdir).read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise WorkflowError(f"cannot read {peering_file(labdir)}: {exc}") from None


def _require(labdir: LabDir) -> PeeringState:
    state = read(labdir)
    if state is None:
        raise WorkflowError(f"lab {labdir.lab!r} has no peering yet ({peering_file(labdir)} does "
                            f"not exist): `mapslab up` creates it")
    return state


def _write(labdir: LabDir, state: PeeringState) -> None:
    # Atomic: the edge agents may read the file at any moment.
    tmp = peering_file(labdir).with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    os.replace(tmp, peering_file(labdir))


@dataclass(frozen=True)
class _Note:
    milestone: Milestone
    about: str
    time: float
    text: Text


def _announce(labdir: LabDir, state: PeeringState, notes: list[_Note]) -> PeeringState:
    """Deliver one message per milestone, in the given order; return the state recording them."""
    records = list(state.milestones)
    for note in notes:
        sequence = len(records) + 1
        message = notify.compose(notify.Notification(sequence, note.time, note.milestone,
                                                     note.text),
                                 labdir.lab, state.peering.contact)
        notify.deliver(maildir(labdir), message)
        records.append(MilestoneRecord(sequence, note.time, note.milestone.value, note.about,
                                       note.text.subject, str(message["Message-ID"])))
    return replace(state, milestones=tuple(records))


# ---- create: Basics, Configuration, Connections, Review + create, deployment ----

IMMUTABLE = (("subscription", "subscription"), ("resource group", "resource_group"),
             ("name", "name"), ("peer ASN", "peer_asn"))


def review(topo: Topology) -> list[str]:
    """The portal's Review + create validation: what keeps the peering from being deployed."""
    peering = topo.peering
    problems = [f"{label} is {got!r}; MAPS Exchange with Route Server requires {want!r}"
                for label, got, want in (("Peering type", peering.kind, page.KIND),
                                         ("Microsoft network", peering.microsoft_network,
                                          page.MICROSOFT_NETWORK),
                                         ("SKU", peering.sku, page.SKU)) if got != want]
    special = asn_range(peering.peer_asn)
    if peering.peer_asn == MICROSOFT_ASN or (special is not None
                                             and special.use in (Use.PRIVATE, Use.RESERVED)):
        problems.append(f"peer ASN AS{peering.peer_asn} is not a public ASN of the peer")
    if not topo.connections:
        problems.append("the peering has no connection: it needs at least one")
    for conn in topo.connections:
        if conn.session_address_provider != page.SESSION_ADDRESS_PROVIDER:
            problems.append(f"connection {conn.name}: Session Address Provider is "
                            f"{conn.session_address_provider!r}, must be 'Peer'")
        if not conn.use_for_peering_service:
            problems.append(f"connection {conn.name}: Use for Peering Service must be enabled")
    return problems


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
    resource = PeeringResource(peering.name, peering.subscription, peering.resource_group,
                               peering.peer_asn, notify.contact(peering.name), clock())
    with _locked(labdir):
        existing = read(labdir)
        if existing is not None:
            changed = [f"{label} {getattr(existing.peering, key)!r} -> {getattr(resource, key)!r}"
                       for label, key in IMMUTABLE
                       if getattr(existing.peering, key) != getattr(resource, key)]
            if changed:
                raise WorkflowError(
                    f"peering {existing.peering.name} of lab {labdir.lab!r} exists; its "
                    f"subscription, resource group, name and ASN cannot be changed after it was "
                    f"created ({'; '.join(changed)}): remove the lab (`mapslab down "
                    f"{labdir.lab}`) to create a new peering")
            return existing
        state = PeeringState(resource, tuple(ConnectionRecord(
            c.name, ConnectionState.PENDING_APPROVAL.value, "waiting for Microsoft's side to be built")
            for c in topo.connections))
        state = _announce(labdir, state, [_Note(
            Milestone.PEERING_CREATED, resource.name, resource.created,
            notify.peering_created(topo, resource.direct_peering_type, resource.sku,
                                   problems))])
        _write(labdir, state)
        return state


def ports_configured(labdir: LabDir, plan: Plan) -> None:
    """Record that Microsoft's ports of every link are configured (the lab has built its LAGs)."""
    for lag in plan.lags:
        labdir.event("ports-configured", node=lag.b_node, lag=lag.name)


# ---- provision: the connections' milestones, as the lab reaches them ----

def sync(labdir: LabDir, plan: Plan) -> tuple[ConnectionProgress, ...]:
    """Announce every provisioning milestone reached since the last call; return the progress."""
    with _locked(labdir):
        state = _require(labdir)
        found = progress(Timeline.read(labdir), plan)
        new = sorted(((at, CONNECTION_STEPS.index(step), index, step, conn)
                      for index, conn in enumerate(found) for step, at in conn.reached
                      if not state.announced(step, conn.name)), key=lambda n: n[:3])
        notes = [_Note(step, conn.name, at,
                       notify.connection_step(plan, state.peering.name, conn.name, step))
                 for at, _, _, step, conn in new]
        updated = replace(_announce(labdir, state, notes), connections=tuple(
            ConnectionRecord(c.name, c.state.value, c.detail) for c in found))
        if updated != state:
            _write(labdir, updated)
    return found


def provision(labdir: LabDir, plan: Plan, seconds: float | None = None
              ) -> tuple[ConnectionProgress, ...]:
    """Wait until every connection is Active (or failed), announcing each milestone."""
    return wait.until("ebgp_session", lambda: sync(labdir, plan),
                      lambda found: "\n".join(c.describe() for c in found if not c.settled),
                      seconds)


# ---- register and activate: optimized routing for the prefixes ----

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


def register_asn(labdir: LabDir, plan: Plan, name: str, asn: int) -> RegisteredAsn:
    """Register an origin ASN, once a connection is Active; issue its prefix key."""
    found = sync(labdir, plan)          # an Active connection is announced before registration
    refused = f"cannot register AS{asn}"
    if not RESOURCE_NAME.match(name):
        raise WorkflowError(f"{refused} as {name!r}: a registered ASN's name is 1-80 letters, "
                            f"digits, '-', '_' or '.', starting with a letter or digit")
    problem = _refuse_asn(asn)
    if problem:
        raise WorkflowError(f"{refused}: {problem}")
    with _locked(labdir):
        state = _require(labdir)
        for existing in state.registrations:
            if (existing.name, existing.asn) == (name, asn):
                return existing
            if existing.asn == asn:
                raise WorkflowError(f"{refused}: it is already registered as {existing.name!r} "
                                    f"for peering {state.peering.name}")
            if existing.name == name:
                raise WorkflowError(f"{refused} as {name!r}: that name already registers "
                                    f"AS{existing.asn}; choose another name")
        if not any(c.active for c in found):
            raise WorkflowError(
                f"{refused}: no connection of peering {state.peering.name} is Active yet ("
                + "; ".join(c.describe() for c in found)
                + "); the portal allows registration only once a connection is Active")
        registration = RegisteredAsn(name, asn, str(uuid.uuid4()), clock())
        state = replace(state, registrations=state.registrations + (registration,))
        state = _announce(labdir, state, [_Note(
            Milestone.ASN_REGISTERED, f"AS{asn}", registration.registered,
            notify.asn_registered(state.peering.name, name, asn,
                                  registration.peering_service_prefix_key))])
        _write(labdir, state)
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
    with _locked(labdir):
        state = _require(labdir)
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
        activated = ActivatedPrefix(network, origin.asn, registration.peering_service_prefix_key,
                                    clock())
        state = replace(state, prefixes=state.prefixes + (activated,))
        state = _announce(labdir, state, [_Note(
            Milestone.PREFIX_ACTIVATED, network, activated.activated, notify.prefix_activated(
                name, network, origin.asn, origin.announcer, registration.name,
                activated.prefix_validation_state, activated.learned_type,
                parsed.version == 4 and parsed.prefixlen > LONGEST_IPV4_WITHOUT_ACTIVATION))])
        _write(labdir, state)
        return activated


def settle(labdir: LabDir, plan: Plan, seconds: float | None = None) -> None:
    """Wait until every edge agent has judged its routes under the registrations in force."""
    state = _require(labdir)
    policy = EdgePolicy(frozenset(state.registered_asns), frozenset(state.activated_prefixes))

    def stale(found) -> str:
        lines = []
        for edge in found:
            for routes in edge.peers.values():
                for prefix, route in routes.items():
                    want = judge(policy, prefix, list(route.get("as_path", []))).outcome.value
                    if route.get("outcome") != want:
                        lines.append(f"{edge.node} ({edge.lag}) {prefix}: "
                                     f"{route.get('outcome')}, expected {want}")
        return "\n".join(lines)

    # Read routes without creating node directories (LabDir.node would).
    wait.until("prefixes", lambda: edge_routes(plan, lambda node: labdir.path / "nodes" / node),
               stale, seconds)


def apply_declared(labdir: LabDir, plan: Plan, topo: Topology) -> PeeringState:
    """Auto turn-up: register every ASN of `registered-asns`, activate every prefix declared
    `activated: true` with its origin's key, and wait until the edges judged them."""
    for declared in topo.registered_asns:
        register_asn(labdir, plan, declared.name, declared.asn)
    announced = origins(plan)
    for prefix in plan.activated_prefixes:
        registration = _require(labdir).registration_of(announced[prefix].asn)
        if registration is None:
            raise WorkflowError(f"cannot activate {prefix} (declared activated): its origin "
                                f"AS{announced[prefix].asn} is not in registered-asns")
        activate_prefix(labdir, plan, prefix, registration.peering_service_prefix_key)
    settle(labdir, plan)
    return _require(labdir)


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


def turn_up(labdir: LabDir, plan: Plan, topo: Topology, mode: str = "auto") -> TurnUp:
    """After `up` built the lab: provision, then in auto mode apply the declared intent.

    Manual mode registers nothing: the user rehearses the portal with `mapslab asn register`
    and `mapslab prefix activate`. A lab with no Active connection stays up, degraded.
    """
    if mode not in ("auto", "manual"):
        raise WorkflowError(f"turn-up mode {mode!r}: choose auto or manual")
    found = provision(labdir, plan)
    problems = [c.describe() for c in found if not c.active]
    if mode == "auto" and any(c.active for c in found):
        apply_declared(labdir, plan, topo)
    elif mode == "auto":
        problems.append("nothing registered: the portal allows registration only once a "
                        "connection is Active")
    return TurnUp(found, _require(labdir), tuple(problems))


# ---- what `mapslab` shows ----

def events(labdir: LabDir) -> list[notify.Delivered]:
    """The automated emails of the lab, in milestone order."""
    return notify.inbox(maildir(labdir))


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def render_events(delivered: list[notify.Delivered]) -> str:
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


def status(labdir: LabDir, plan: Plan) -> tuple[PeeringState, tuple[ConnectionProgress, ...]]:
    """The peering's records and its connections' live state (reads only)."""
    return _require(labdir), progress(Timeline.read(labdir), plan)


def attach(lab: str) -> tuple[LabDir, Plan]:
    """A running lab's directory and plan, for the commands."""
    labdir = LabDir(lab)
    labdir.read_state()                  # LabStateError when no such lab is up
    return labdir, resolve(load(labdir.path / "topology.yaml"))
