"""When the lab's own automation was held, read from the timeline (`turnup-held`,
`turnup-continued`; emulator.core.hold writes the hold itself).

The portal asks it whether a connection whose sessions are all Established may be Active yet:
while the turn-up is held before `connection-active`, Microsoft's validation has not run.
"""
from __future__ import annotations

from dataclasses import dataclass

from emulator.core.events import EventKind
from emulator.core.hold import Step
from emulator.observe.timeline import Timeline


@dataclass(frozen=True)
class HeldSpan:
    step: Step
    start: float
    end: float | None          # None while it holds


def spans(timeline: Timeline) -> list[HeldSpan]:
    """Every hold of the turn-up, in order; a hold ends at the next release."""
    found: list[HeldSpan] = []
    for event in timeline.events:
        if event.kind is EventKind.TURNUP_HELD:
            if found and found[-1].end is None:
                found[-1] = HeldSpan(found[-1].step, found[-1].start, event.time)
            found.append(HeldSpan(Step(str(event.get("step"))), event.time, None))
        elif event.kind is EventKind.TURNUP_CONTINUED and found and found[-1].end is None:
            found[-1] = HeldSpan(found[-1].step, found[-1].start, event.time)
    return found


def held_at(timeline: Timeline) -> Step | None:
    """The step the automation is held at now, or None."""
    found = spans(timeline)
    return found[-1].step if found and found[-1].end is None else None


def active_from(timeline: Timeline, all_up_at: float | None) -> float | None:
    """When a connection whose sessions were all Established at `all_up_at` became Active: at
    once, unless the turn-up was held before `connection-active` (then when the last such hold
    was released; None while one still holds)."""
    if all_up_at is None:
        return None
    at = all_up_at
    for span in spans(timeline):
        if span.step >= Step.CONNECTION_ACTIVE:
            continue
        if span.end is None:
            return None
        at = max(at, span.end)
    return at
