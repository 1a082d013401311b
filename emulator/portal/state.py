"""The connections' state as the portal shows it, derived from the lab's timeline and its plan.

States are Azure's ConnectionState values (Microsoft.Peering API):
  PendingApproval        deployed; Microsoft's side (the lab) not built yet: no lab-created
  Approved               the lab is being built; Microsoft's ports not configured yet
  ProvisioningStarted    ports configured, session addresses announced; waiting for every
                         link's LAG and for the edge automation to configure BGP
  ProvisioningCompleted  BGP configured on every link; no session Established yet
  Validating             some of the connection's sessions Established, not all
  Active                 both links' IPv4 and IPv6 sessions Established
  ProvisioningFailed     a link's LAG never came up (lag-timeout), so it got no BGP
TypeChangeRequested, TypeChangeInProgress and ExternalBlocker have no counterpart in the lab.

Reads only: nothing here writes the peering's records or sends its emails.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from emulator.core.events import EventKind
from emulator.observe import holds
from emulator.observe.timeline import Timeline
from emulator.plan.model import Lag, Plan
from emulator.portal.notify import Milestone


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


# The provisioning steps of a connection, in the order the page gives them.
CONNECTION_STEPS = (Milestone.PORTS_CONFIGURED, Milestone.SESSION_ADDRESSES, Milestone.LAG_UP,
                    Milestone.BGP_CONFIGURED, Milestone.SESSIONS_ESTABLISHED,
                    Milestone.CONNECTION_ACTIVE)


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
    def finished(self) -> bool:
        """Provisioning is over (Active or failed): nothing more happens without a change."""
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


def progress(timeline: Timeline, plan: Plan) -> tuple[ConnectionProgress, ...]:
    """Every connection's state now, and when it first reached each provisioning step."""
    created = bool(timeline.of(EventKind.LAB_CREATED))
    return tuple(_connection(timeline, plan, name, lags, created)
                 for name, lags in connection_lags(plan).items())


def _first(timeline: Timeline, kinds: tuple[EventKind, ...], lag: str) -> float | None:
    return min((e.time for kind in kinds for e in timeline.of(kind, lag=lag)), default=None)


def _all(times: dict[str, float | None]) -> float | None:
    """When every link had reached a step: the last of them, None while one has not."""
    if any(t is None for t in times.values()):
        return None
    return max((t for t in times.values() if t is not None), default=None)


def _connection(timeline: Timeline, plan: Plan, name: str, lags: tuple[Lag, ...],
                created: bool) -> ConnectionProgress:
    links = [lag.name for lag in lags]
    # The edge automation saw LACP up (lag-up), or the monitor did, later (lag-state).
    lag_up = {link: timeline.first_lag_up(link) for link in links}
    timed_out = {link for link in links
                 if _first(timeline, (EventKind.LAG_TIMEOUT,), link) is not None}
    configured = {link: _first(timeline, (EventKind.BGP_CONFIGURED,), link) for link in links}
    # Ports are configured before the edge automation waits on them; a lab that records no
    # ports-configured event had them configured, at the latest, when the automation acted.
    ports = {link: _first(timeline, (EventKind.PORTS_CONFIGURED,), link)
             or _first(timeline, (EventKind.LAG_UP, EventKind.LAG_TIMEOUT,
                                  EventKind.BGP_CONFIGURED), link)
             for link in links}
    sessions = [s for s in plan.sessions if s.lag in links]
    by_peer = {(s.lag, s.a_address): s.name for s in sessions}
    up = {s.name: False for s in sessions}
    all_up_at = None
    for event in timeline.of(EventKind.BGP_STATE):    # the edge agent: ExaBGP neighbor-changes
        session = by_peer.get((event.get("lag"), event.get("peer")))
        if session is not None:
            up[session] = event.get("state") == "up"
            if all_up_at is None and all(up.values()):
                all_up_at = event.time
    # Each step at its own time: a lab whose edge does not wait for LACP shows BGP before LAG.
    # A rehearsal held before `connection-active` keeps Microsoft's validation from running.
    active_at = holds.active_from(timeline, all_up_at)
    times = (_all(ports), _all(ports), _all(lag_up), _all(configured), all_up_at, active_at)
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
    elif active_at is None:
        state = ConnectionState.VALIDATING
        detail = (f"every session Established; the turn-up is held at {holds.held_at(timeline)} "
                  f"before the connection becomes Active (`mapslab continue`)")
    else:
        state, detail = ConnectionState.ACTIVE, ""
    held = holds.held_at(timeline)
    if held is not None and state is not ConnectionState.ACTIVE and "held at" not in detail:
        detail += f"; the turn-up is held at {held} (`mapslab continue`)"
    return ConnectionProgress(name, state, detail, reached, tuple(
        SessionProgress(s.name, s.lag or "", up[s.name]) for s in sessions))
