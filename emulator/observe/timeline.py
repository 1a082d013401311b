"""The lab's timeline read back: events in order, and per link the LAG and session states over time."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    time: float
    kind: str
    fields: dict[str, object]

    def get(self, key: str, default: object = None) -> object:
        return self.fields.get(key, default)


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]

    @classmethod
    def read(cls, labdir) -> "Timeline":
        records = sorted(labdir.events(), key=lambda e: float(e["time"]))
        return cls(tuple(Event(float(r.pop("time")), str(r.pop("kind")), r) for r in records))

    @property
    def start(self) -> float:
        return self.events[0].time if self.events else 0.0

    def of(self, kind: str, **match: object) -> list[Event]:
        return [e for e in self.events if e.kind == kind
                and all(e.get(k) == v for k, v in match.items())]

    def lag_up_at(self, lag: str, when: float) -> bool | None:
        """Was the LAG up (edge side) at `when`? None if nothing was known yet."""
        known: bool | None = None
        for event in self.events:
            if event.time > when:
                break
            if event.kind == "lag-up" and event.get("lag") == lag:
                known = True
            elif event.kind == "lag-state" and event.get("lag") == lag and event.get("side") == "edge":
                known = bool(event.get("up"))
        return known

    def session_changes(self, lag: str) -> list[Event]:
        """Edge-side BGP state changes of the link's sessions (from the edge agent)."""
        return self.of("bgp-state", lag=lag)

    def intervals(self, kind: str, key: str, value: str, up: object,
                  end: float) -> list[tuple[float, float, bool]]:
        """(start, end, is_up) spans of one state variable, for plotting."""
        spans: list[tuple[float, float, bool]] = []
        state, since = None, self.start
        for event in self.events:
            if event.kind != kind or event.get(key) != value:
                continue
            now_up = up(event)
            if now_up is None:          # an event of this kind that the caller does not follow
                continue
            if state is not None and now_up != state:
                spans.append((since, event.time, state))
                since = event.time
            elif state is None:
                since = event.time
            state = now_up
        if state is not None:
            spans.append((since, end, state))
        return spans
