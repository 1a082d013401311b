"""The lab's timeline on disk: every kind of event, the typed event, and its one writer.

A lab's events.jsonl holds one JSON object a line, `{"time": ..., "kind": ..., **fields}`, appended
by several processes at once: the controller (`up`, the edge automation, faults), the edge agents
(inside ExaBGP) and the monitor. Each appends through `append`, one `write` per line on a file
opened for appending, so that lines of different writers never interleave (POSIX O_APPEND).

This module is imported by the edge agent, which runs in the edge image with only the standard
library, ExaBGP and pyroute2: it must stay free of other dependencies.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class EventKind(StrEnum):
    """Every kind of event a lab records, grouped by who writes it."""

    # the controller: `mapslab up` and the portal's turn-up
    LAB_CREATED = "lab-created"
    PORTS_CONFIGURED = "ports-configured"
    # the edge automation ("After the LAG comes up, our automated process configures BGP")
    LAG_UP = "lag-up"                  # LACP collecting and distributing, seen by the automation
    LAG_TIMEOUT = "lag-timeout"        # the LAG did not come up within its budget: no BGP
    BGP_CONFIGURED = "bgp-configured"
    # the monitor
    LAG_STATE = "lag-state"            # a LAG's state changed on one side (peer or edge)
    MONITOR_ERROR = "monitor-error"
    # the edge agents (ExaBGP's API)
    BGP_STATE = "bgp-state"            # ExaBGP neighbor-changes: up, down, connected
    BGP_NOTIFICATION = "bgp-notification"
    BGP_MALFORMED = "bgp-malformed"    # RFC 7606 handling of an UPDATE
    MAX_PREFIX = "max-prefix"          # a session torn down above its prefix limit
    POLICY_RELOADED = "policy-reloaded"
    # fault scenarios
    FAULT = "fault"
    RECOVER = "recover"
    # rehearsal: the lab's own automation held at a step of the turn-up, and moved on
    TURNUP_HELD = "turnup-held"
    TURNUP_CONTINUED = "turnup-continued"
    # a running lab changed in place (mapslab announce/withdraw/set)
    LAB_CHANGED = "lab-changed"


_RESERVED = frozenset({"time", "kind"})


@dataclass(frozen=True)
class Event:
    """One event of the timeline: when (Unix time), what kind, and the kind's own fields."""

    time: float
    kind: EventKind
    fields: Mapping[str, object] = field(default_factory=dict)

    def get(self, key: str, default: object = None) -> object:
        return self.fields.get(key, default)

    @classmethod
    def parse(cls, record: Mapping[str, object]) -> "Event":
        """An event from one decoded JSON line; ValueError when it is not one."""
        if "time" not in record or "kind" not in record:
            raise ValueError(f"an event needs a time and a kind: {dict(record)}")
        try:
            when = float(record["time"])            # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"event time {record['time']!r} is not a number") from None
        try:
            kind = EventKind(record["kind"])
        except ValueError:
            raise ValueError(f"unknown event kind {record['kind']!r}") from None
        return cls(when, kind, {k: v for k, v in record.items() if k not in _RESERVED})

    def record(self) -> dict[str, object]:
        """The event as it is written: time and kind first, then its fields."""
        return {"time": self.time, "kind": self.kind.value, **self.fields}


def append(events_file: str | Path, kind: EventKind | str, **fields: object) -> Event:
    """Record one event, stamped now, at the end of a lab's events.jsonl; return it.

    The file's folder must exist: a writer whose lab was removed must not create it again.
    """
    clash = _RESERVED & fields.keys()
    if clash:
        raise ValueError(f"event fields may not be named {sorted(clash)}")
    event = Event(time.time(), EventKind(kind), fields)
    line = (json.dumps(event.record()) + "\n").encode()
    with open(events_file, "ab", buffering=0) as out:     # unbuffered: one write(2) a line
        out.write(line)
    return event
