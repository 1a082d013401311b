"""Where the time of one `mapslab up` goes, from what the lab recorded: the controller's progress
lines (each stamped as it arrived) and the lab's own timeline (events.jsonl, Unix times written
by the controller, the edge automation, the edge agents and the monitor).

Each milestone is placed on one clock, seconds since `mapslab up` was launched; a phase is the
time from one milestone to the next.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

STAMP = re.compile(r"^\[\s*[0-9.]+s\] ")


@dataclass(frozen=True)
class Milestone:
    at: float           # seconds since `mapslab up` was launched
    what: str
    source: str         # "progress" (the controller's line) or "timeline" (events.jsonl)


def _events(events_file: Path) -> list[dict]:
    found = []
    for line in events_file.read_text().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def from_timeline(events: Sequence[dict], launched: float) -> list[Milestone]:
    """The first and last of each step the edge side records (LAG up, BGP configured, an
    interconnect session up), and the monitor's first look."""
    def times(kind: str, **match: object) -> list[float]:
        return sorted(e["time"] - launched for e in events if e.get("kind") == kind
                      and all(e.get(k) == v for k, v in match.items()))

    found: list[Milestone] = []
    for kind, label, match in (("lab-created", "lab directory created", {}),
                               ("lag-up", "LAG up at the edge (LACP)", {}),
                               ("bgp-configured", "edge configured BGP", {}),
                               ("bgp-state", "interconnect session up (edge agent)",
                                {"state": "up"}),
                               ("lag-state", "monitor's first look", {})):
        seen = times(kind, **match)
        if not seen:
            continue
        if len(seen) == 1 or kind in ("lab-created", "lag-state"):
            found.append(Milestone(seen[0], label, "timeline"))
        else:
            found.append(Milestone(seen[0], f"first {label}", "timeline"))
            found.append(Milestone(seen[-1], f"last {label}", "timeline"))
    return found


def from_progress(steps: Sequence[tuple[float, str]]) -> list[Milestone]:
    found = [Milestone(at, STAMP.sub("", line), "progress") for at, line in steps
             if STAMP.match(line)]
    return found


def milestones(steps: Sequence[tuple[float, str]], events_file: Path, launched: float,
               exited: float) -> list[Milestone]:
    """Every milestone of one bring-up, in time order, ending with `up` returning."""
    found = from_progress(steps) + from_timeline(_events(events_file), launched)
    found.append(Milestone(exited, "`mapslab up` returned (after printing the status)", "process"))
    return sorted(found, key=lambda m: m.at)


def rows(found: Sequence[Milestone]) -> list[tuple[str, str, str, str]]:
    """(milestone, source, at, since the previous one) for the report's table."""
    out = []
    previous = 0.0
    for m in found:
        what = m.what if len(m.what) <= 90 else m.what[:87] + "..."
        out.append((what, m.source, f"{m.at:.2f}", f"{m.at - previous:.2f}"))
        previous = m.at
    return out
