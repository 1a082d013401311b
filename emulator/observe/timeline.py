"""The lab's timeline read back: typed events in order, and per link the LAG and session states.

This is the one place that decides from the events whether a LAG was up at a time and whether
a session was Established (the edge agent's `bgp-state`); checks, the report and the portal ask
it. A LAG's state is the latest of the edge automation's `lag-up` (recorded when it sees the LAG
up, before it configures BGP: at turn-up and whenever a recovery brings a link's BGP back) and
the monitor's edge-side `lag-state` (a poll, which may see a change late).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.core.errors import LabStateError
from emulator.core.events import Event, EventKind

if TYPE_CHECKING:
    from emulator.core.labdir import LabDir

Span = tuple[float, float, bool]        # (start, end, up) in Unix time


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]

    @classmethod
    def read(cls, labdir: LabDir) -> Timeline:
        found = []
        for number, record in enumerate(labdir.events(), 1):
            try:
                found.append(Event.parse(record))
            except ValueError as exc:
                raise LabStateError(f"{labdir.events_file}: event {number}: {exc}") from None
        return cls(tuple(sorted(found, key=lambda e: e.time)))

    @property
    def start(self) -> float:
        return self.events[0].time if self.events else 0.0

    def of(self, kind: EventKind | str, **match: object) -> list[Event]:
        return [e for e in self.events if e.kind == kind
                and all(e.get(k) == v for k, v in match.items())]

    # ---- LAGs ----

    @staticmethod
    def _lag_state(event: Event, lag: str) -> bool | None:
        """What one event says about the LAG on the edge side: up, down, or nothing."""
        if event.get("lag") != lag:
            return None
        if event.kind is EventKind.LAG_UP:
            return True
        if event.kind is EventKind.LAG_STATE and event.get("side") == "edge":
            return bool(event.get("up"))
        return None

    def _lag_states(self, lag: str) -> list[tuple[float, bool]]:
        return [(e.time, up) for e in self.events if (up := self._lag_state(e, lag)) is not None]

    def lag_up_at(self, lag: str, when: float) -> bool | None:
        """Was the LAG up (edge side) at `when`? None if nothing was known yet."""
        known: bool | None = None
        for at, up in self._lag_states(lag):
            if at > when:
                break
            known = up
        return known

    def lag_state_at(self, lag: str, when: float) -> tuple[bool, float, str] | None:
        """The LAG's state at `when` (edge side), since when, and whose record says so (the
        edge automation or the monitor); None if nothing was known yet."""
        known = None
        for event in self.events:
            if event.time > when:
                break
            up = self._lag_state(event, lag)
            if up is not None and (known is None or up != known[0]):
                known = (up, event.time, "edge automation" if event.kind is EventKind.LAG_UP
                         else "monitor")
        return known

    def member_spans(self, lag: str, end: float) -> list[tuple[float, float, int]]:
        """(start, end, members up) from the edge side's records (the automation's `lag-up`,
        the monitor's `lag-state`) until `end`: a member leaving a bundle that stays up shows."""
        changes = [(e.time, int(e.get("members_up") or 0)) for e in self.events
                   if self._lag_state(e, lag) is not None and e.get("members_up") is not None]
        spans: list[tuple[float, float, int]] = []
        for (at, up), (following, _) in zip(changes, changes[1:] + [(end, 0)]):
            if spans and spans[-1][2] == up:
                spans[-1] = (spans[-1][0], following, up)
            else:
                spans.append((at, following, up))
        return spans

    def first_lag_up(self, lag: str) -> float | None:
        """When the LAG was first seen up (edge side); None if never."""
        return next((at for at, up in self._lag_states(lag) if up), None)

    def lag_spans(self, lag: str, end: float) -> list[Span]:
        """The LAG's up and down spans (edge side) from its first known state until `end`."""
        return _spans(self._lag_states(lag), end)

    # ---- BGP sessions (edge side, from the edge agents) ----

    def session_changes(self, lag: str) -> list[Event]:
        """Edge-side BGP state changes of the link's sessions (from the edge agent)."""
        return self.of(EventKind.BGP_STATE, lag=lag)

    def sessions_established(self, lag: str) -> list[Event]:
        """Every time one of the link's sessions reached Established."""
        return [e for e in self.session_changes(lag) if e.get("state") == "up"]

    def session_drops(self, since: float) -> list[Event]:
        """Every session that went down at or after `since`, on any link."""
        return [e for e in self.of(EventKind.BGP_STATE, state="down") if e.time >= since]

    def session_spans(self, lag: str, peer: str, end: float) -> list[Span]:
        """One session's up and down spans, the session named by its peer-side address."""
        return _spans([(e.time, e.get("state") == "up") for e in self.session_changes(lag)
                       if e.get("peer") == peer], end)


def _spans(states: Iterable[tuple[float, bool]], end: float) -> list[Span]:
    """(start, end, up) spans of a state known at the given times, one span per change."""
    spans: list[Span] = []
    current: tuple[float, bool] | None = None
    for at, up in states:
        if current is None:
            current = (at, up)
        elif up != current[1]:
            spans.append((current[0], at, current[1]))
            current = (at, up)
    if current is not None:
        spans.append((current[0], end, current[1]))
    return spans
